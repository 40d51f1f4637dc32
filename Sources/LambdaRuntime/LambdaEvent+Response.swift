import Foundation

extension LambdaEvent.Source {
    /// The payload to return for a JSON result: for HTTP events an API Gateway / Function URL response document
    /// `{"statusCode": N, "headers": {"content-type": "application/json"}, "body": "<json>", "isBase64Encoded":
    /// false}`, for direct invocations the JSON itself.
    /// - Parameters:
    ///   - statusCode: the HTTP status (ignored for direct invocations).
    ///   - json: a complete JSON document.
    public func responsePayload(statusCode: Int, json: Data) -> Data {
        guard isHTTP else { return json }
        let document = HTTPResponseDocument(
            statusCode: statusCode, headers: ["content-type": "application/json"],
            body: String(decoding: json, as: UTF8.self), isBase64Encoded: false)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A struct of an Int, a string dictionary, a string and a Bool always encodes.
        return (try? encoder.encode(document)) ?? Data()
    }
}
