import Foundation

/// What the Runtime API says about one invocation, besides its event.
public struct InvocationContext: Sendable, Equatable {
    /// `Lambda-Runtime-Aws-Request-Id`: the id used to post the response or error, and in every log line.
    public var requestID: String
    /// `Lambda-Runtime-Deadline-Ms`: when the function times out, in milliseconds since the Unix epoch.
    public var deadlineMilliseconds: Int64
    /// `Lambda-Runtime-Invoked-Function-Arn`: the ARN (with version or alias) the caller invoked; empty if absent.
    public var invokedFunctionARN: String
    /// `Lambda-Runtime-Trace-Id`: the X-Ray trace header, when tracing is on.
    public var traceID: String?

    /// Creates a context.
    public init(requestID: String, deadlineMilliseconds: Int64, invokedFunctionARN: String, traceID: String?) {
        self.requestID = requestID
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
    }

    /// The deadline as a date.
    public var deadline: Date { Date(timeIntervalSince1970: Double(deadlineMilliseconds) / 1000) }

    /// The time left before the deadline (negative once it has passed).
    public func remainingTime(now: Date = Date()) -> Duration {
        .milliseconds(deadlineMilliseconds - Int64((now.timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
