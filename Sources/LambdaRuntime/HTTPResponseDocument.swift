/// The response document API Gateway (payload 1.0 and 2.0) and Function URLs expect from a proxy integration.
public struct HTTPResponseDocument: Codable, Sendable, Equatable {
    /// The HTTP status.
    public var statusCode: Int
    /// Response headers.
    public var headers: [String: String]
    /// The body as text (base64 when `isBase64Encoded`).
    public var body: String
    /// Whether `body` is base64 of binary content.
    public var isBase64Encoded: Bool

    /// Creates a document.
    public init(statusCode: Int, headers: [String: String], body: String, isBase64Encoded: Bool) {
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }
}
