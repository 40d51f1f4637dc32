import Foundation

/// The final response of an HTTP transfer (after any redirects that were followed).
public struct HTTPResponse: Sendable {
    /// The HTTP status code, e.g. 200.
    public var statusCode: Int
    /// The headers of the final response.
    public var headers: HTTPHeaders
    /// The body; empty for HEAD.
    public var body: Data

    /// Creates a response.
    public init(statusCode: Int, headers: HTTPHeaders, body: Data) {
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(statusCode) }
}
