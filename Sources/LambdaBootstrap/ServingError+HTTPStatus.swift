import BottleneckServing

extension ServingError.Kind {
    /// The HTTP status a caller gets for this failure: its own mistakes are 4xx (400 for a URL that cannot or may
    /// not be fetched or bytes that are no image, 422 for an image too large to fetch or decode: the request
    /// itself was fine, unlike the 413 of a request body over its limit, `LambdaRuntimeError.payloadTooLarge`),
    /// the image server's are 502 (an error status, no connection) or 504 (too slow), and a model that cannot run
    /// is 500.
    var httpStatus: Int {
        switch self {
        case .invalidURL, .refusedAddress, .notAnImage: 400
        case .tooLarge: 422
        case .timedOut: 504
        case .httpStatus, .unreachable: 502
        case .invalidModel: 500
        }
    }
}
