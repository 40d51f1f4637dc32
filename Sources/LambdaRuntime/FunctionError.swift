/// The error document the Runtime API accepts at `/invocation/{id}/error` and `/init/error`.
///
/// Lambda shows it to synchronous callers as the response body (with `X-Amz-Function-Error`), and Step Functions
/// matches `errorType` in its `Retry` and `Catch` rules.
public struct FunctionError: Codable, Sendable, Equatable {
    /// A `Category.Reason` name, e.g. `Runtime.ModelLoadFailed`; also sent as `Lambda-Runtime-Function-Error-Type`.
    public var errorType: String
    /// What went wrong and what to do about it.
    public var errorMessage: String
    /// Frames or context lines, if any (usually empty: Swift errors carry no stack).
    public var stackTrace: [String]

    /// Creates an error document.
    public init(type: String, message: String, stackTrace: [String] = []) {
        errorType = type
        errorMessage = message
        self.stackTrace = stackTrace
    }
}
