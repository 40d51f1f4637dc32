/// Why fetching or classifying an image failed.
///
/// `message` is a complete sentence for a person: what went wrong and what to do next. Programs branch on `kind`
/// (the Lambda handler maps it to an HTTP status: `invalidURL`, `refusedAddress` and `notAnImage` are the caller's
/// mistakes (400), `tooLarge` an image the caller pointed to that is over a limit (422: 413 is kept for a request
/// body over its own limit), `timedOut`, `httpStatus` and `unreachable` are the image server's).
public struct ServingError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Kind: String, Sendable, Codable {
        /// The URL is malformed, not http or https, or redirects to something that is not (or too many times).
        case invalidURL
        /// The URL's host, or a redirect's, resolves to an address the `AddressPolicy` refuses (loopback, private,
        /// link-local, ...); no connection was opened to it.
        case refusedAddress
        /// The connect or total timeout ran out.
        case timedOut
        /// The body is larger than the limit (announced or while streaming), or the image has too many pixels.
        case tooLarge
        /// The bytes are not a JPEG or PNG image, or are a damaged one.
        case notAnImage
        /// The image server answered with a status other than 2xx; see `upstreamStatus`.
        case httpStatus
        /// No connection could be made or it broke (DNS failure, refused, reset, TLS failure).
        case unreachable
        /// The model file is missing, damaged or not a combined classifier model.
        case invalidModel
    }

    /// The kind of failure.
    public let kind: Kind
    /// What went wrong and what to do next.
    public let message: String
    /// The image server's HTTP status, for `.httpStatus`.
    public let upstreamStatus: Int?

    /// Creates an error; `message` should say what failed and what to do next.
    public init(_ kind: Kind, _ message: String, upstreamStatus: Int? = nil) {
        self.kind = kind
        self.message = message
        self.upstreamStatus = upstreamStatus
    }

    public var description: String { message }
}
