/// Why an HTTP transfer, an S3 request or loading the AWS configuration failed.
///
/// `description` is a complete sentence for a person: what failed, why, and what to do about it. Programs branch
/// on `code` (and `statusCode` / `serviceCode` for the details of an HTTP or S3 failure).
public struct NetworkError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// The URL could not be parsed, or names no host.
        case invalidURL
        /// No connection could be made or it broke mid-transfer (refused, reset, DNS failure, TLS handshake).
        /// S3 requests retry these.
        case connectionFailed
        /// The connect timeout or the total timeout ran out. S3 requests retry these.
        case timedOut
        /// The client's address filter refused every address of the host; no packet was sent to them.
        case addressDenied
        /// The response body is larger than the client's limit; the transfer was stopped as soon as that was known.
        case tooLarge
        /// More redirects than the client allows.
        case tooManyRedirects
        /// The URL, or a redirect, uses a scheme other than http or https.
        case unsupportedProtocol
        /// Any other libcurl failure; the message carries libcurl's explanation.
        case transport
        /// A file to upload could not be opened or read.
        case fileAccess
        /// The server answered with a status the operation does not accept (after any retries).
        case httpStatus
        /// S3 refused the credentials or the signature (403: AccessDenied, SignatureDoesNotMatch,
        /// InvalidAccessKeyId, InvalidToken, ExpiredToken).
        case accessDenied
        /// The S3 bucket does not exist (404 NoSuchBucket).
        case noSuchBucket
        /// The S3 object does not exist (404 NoSuchKey).
        case notFound
        /// No AWS credentials were found in the environment or the shared files.
        case missingCredentials
        /// An AWS setting (profile, endpoint, file) is malformed.
        case invalidConfiguration
        /// The server's answer could not be understood (malformed XML, missing fields).
        case invalidResponse
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to do about it.
    public var message: String
    /// The HTTP status of the last response, when there was one.
    public var statusCode: Int?
    /// The service's own error code (S3's `<Code>`, e.g. `SlowDown`), when it sent one.
    public var serviceCode: String?
    /// How many times the request was sent (1 when it was not retried).
    public var attempts: Int
    /// The error that caused this one, if any (e.g. a file system error).
    public var underlying: (any Error)?

    /// Creates an error; `message` should say what failed and what to do next.
    public init(
        _ code: Code, _ message: String, statusCode: Int? = nil, serviceCode: String? = nil, attempts: Int = 1,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.statusCode = statusCode
        self.serviceCode = serviceCode
        self.attempts = attempts
        self.underlying = underlying
    }

    public var description: String {
        var text = message
        if attempts > 1 { text += " (after \(attempts) attempts)" }
        if let underlying { text += " [\(underlying)]" }
        return text
    }
}
