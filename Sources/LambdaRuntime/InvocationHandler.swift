import Foundation

/// The function's code: turns one invocation into a result. Called on one thread, one invocation at a time.
public protocol InvocationHandler {
    /// Handles `invocation`. A thrown error is reported to Lambda as an invocation error of type
    /// `Runtime.Unhandled`; expected failures should be returned as results (an HTTP 4xx, a `FunctionError`).
    func handle(_ invocation: Invocation) throws -> InvocationResult
}

/// What a handler produced, and what it wants in the invocation's log line.
public struct InvocationResult: Sendable {
    /// What is posted to the Runtime API.
    public enum Outcome: Sendable {
        /// A successful response payload (`/response`).
        case response(Data)
        /// A failed invocation (`/error`): the caller sees a function error.
        case failure(FunctionError)
    }

    /// What is posted.
    public var outcome: Outcome
    /// Fields for the invocation's log line, in order (e.g. the event kind, the status, timings in ms).
    public var logFields: [(String, LogValue)]
    /// Whether the log line is an error line (e.g. for a 5xx status or a failure).
    public var isError: Bool

    /// Creates a result.
    public init(_ outcome: Outcome, logFields: [(String, LogValue)] = [], isError: Bool = false) {
        self.outcome = outcome
        self.logFields = logFields
        self.isError = isError
    }
}
