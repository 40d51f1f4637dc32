import BottleneckServing

/// The JSON body of a classification answer: one result per image, in the request's order.
///
///     {"results": [{"url": "https://...", "top": [{"label": "cat", "index": 3, "score": 0.93}],
///                   "fetchMs": 41.2, "decodeMs": 3.1, "inferenceMs": 9.8}]}
///
/// In a `urls` request an image that failed has `error` (a `ServingError.Kind`) and `message` instead of `top`.
struct ClassificationResponse: Encodable {
    struct Result: Encodable {
        var url: String?
        var top: [ClassScore]?
        var fetchMs: Double?
        var decodeMs: Double?
        var inferenceMs: Double?
        var error: String?
        var message: String?
    }

    var results: [Result]
}
