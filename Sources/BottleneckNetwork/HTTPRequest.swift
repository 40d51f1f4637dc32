import Foundation

/// One HTTP request for `HTTPClient.send(_:)`.
///
///     var request = HTTPRequest(method: .put, url: "http://127.0.0.1:9000/bucket/key", body: .bytes(data))
///     request.headers.add(name: "Content-Type", value: "application/octet-stream")
public struct HTTPRequest: Sendable {
    /// The HTTP methods the clients in this package use.
    public enum Method: String, Sendable {
        case get = "GET"
        case head = "HEAD"
        case put = "PUT"
        case post = "POST"
        case delete = "DELETE"
    }

    /// What the request sends after its headers.
    public enum Body: Sendable {
        /// No body.
        case empty
        /// These bytes.
        case bytes(Data)
        /// The content of this file, streamed from disk (never held in memory whole); Content-Length is its size
        /// when the request starts.
        case file(URL)
    }

    /// The method.
    public var method: Method
    /// The absolute http or https URL, already percent-encoded: it is sent (and signed) exactly as written.
    public var url: String
    /// Headers to send in addition to the ones libcurl adds (Host, Content-Length, User-Agent).
    public var headers: HTTPHeaders
    /// The body; only PUT and POST send one.
    public var body: Body
    /// When set, libcurl signs the request with AWS Signature Version 4 (all of `headers` are signed).
    public var signing: AWSSigning?

    /// Creates a request.
    public init(
        method: Method, url: String, headers: HTTPHeaders = HTTPHeaders(), body: Body = .empty,
        signing: AWSSigning? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.signing = signing
    }

    /// `url` without any `user:password@` part, for messages and logs; other text is returned unchanged.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        var text = url
        let authorityEnd = text[schemeEnd.upperBound...].firstIndex(where: { "/?#".contains($0) }) ?? text.endIndex
        if let at = text[schemeEnd.upperBound..<authorityEnd].lastIndex(of: "@") {
            text.replaceSubrange(schemeEnd.upperBound...at, with: "")
        }
        return text
    }
}
