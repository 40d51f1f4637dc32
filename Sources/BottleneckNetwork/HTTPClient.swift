import Foundation

/// A blocking HTTP/1.1 and HTTP/2 client over libcurl, with limits suited to fetching untrusted URLs and talking
/// to S3.
///
/// The client keeps one libcurl easy handle, so consecutive requests to the same host reuse the connection (and
/// the DNS cache and TLS session). Proxy settings in the environment (`http_proxy`, ...) are ignored so that the
/// address filter always sees the real peer.
///
/// **Thread safety.** A client may be shared between threads: `send(_:)` holds a lock for the whole transfer, so
/// one client carries one transfer at a time and concurrent callers wait. For parallel transfers create one client
/// per thread or task. `send(_:)` blocks the calling thread until the transfer ends.
///
///     let client = try HTTPClient(configuration: .init(totalTimeout: .seconds(5), maxRedirects: 3))
///     let response = try client.send(HTTPRequest(method: .get, url: "https://example.com/cat.jpg"))
public final class HTTPClient: @unchecked Sendable {
    /// The limits and policies applied to every request of this client.
    public let configuration: Configuration

    // `curl` is only touched with `lock` held: that is what makes the class Sendable.
    private let lock = NSLock()
    private let curl: CurlEasy

    /// Creates a client.
    /// - Throws: `NetworkError` with code `.transport` when libcurl cannot be initialised.
    public init(configuration: Configuration = Configuration()) throws(NetworkError) {
        self.configuration = configuration
        curl = try CurlEasy()
    }

    /// Sends `request` and returns the final response, whatever its status (a 404 or 503 is a response, not an
    /// error). Redirects are followed up to `configuration.maxRedirects`.
    /// - Throws: `NetworkError` when no complete response arrived: `.connectionFailed`, `.timedOut`,
    ///   `.addressDenied`, `.tooLarge`, `.tooManyRedirects`, `.unsupportedProtocol`, `.invalidURL`,
    ///   `.fileAccess` (upload file) or `.transport`.
    public func send(_ request: HTTPRequest) throws(NetworkError) -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        return try curl.perform(request, configuration: configuration)
    }
}
