/// Why the runtime could not talk to the Lambda Runtime API, or could not understand an event.
///
/// `description` is a complete sentence for a person: what failed and what to do about it. Programs branch on
/// `code`.
public struct LambdaRuntimeError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// A required environment variable (`AWS_LAMBDA_RUNTIME_API`) is not set: the process is not running
        /// inside Lambda or an emulator.
        case missingEnvironment
        /// The Runtime API could not be reached, or the connection broke (after the retries).
        case runtimeAPIUnreachable
        /// The Runtime API answered with a status the runtime cannot continue after (e.g. 500).
        case runtimeAPIRejected
        /// An invocation lacked a header the Runtime API always sends (request id, deadline).
        case invalidInvocation
        /// The event (or its HTTP body) is not what the function accepts: malformed JSON, bad base64, a wrong
        /// field type. Maps to HTTP 400.
        case invalidEvent
        /// The event or its body is larger than the function accepts. Maps to HTTP 413.
        case payloadTooLarge
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to do about it.
    public var message: String
    /// The Runtime API's HTTP status, for `.runtimeAPIRejected`.
    public var statusCode: Int?
    /// The error that caused this one, if any (e.g. a `NetworkError`).
    public var underlying: (any Error)?

    /// Creates an error; `message` should say what failed and what to do next.
    public init(_ code: Code, _ message: String, statusCode: Int? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.statusCode = statusCode
        self.underlying = underlying
    }

    public var description: String {
        guard let underlying else { return message }
        return "\(message) [\(underlying)]"
    }
}
