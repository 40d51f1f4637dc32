import Foundation

/// One event delivered by `GET /runtime/invocation/next`.
public struct Invocation: Sendable {
    /// The request id, deadline, ARN and trace id.
    public var context: InvocationContext
    /// The event exactly as received (JSON for every AWS event source).
    public var event: Data

    /// Creates an invocation.
    public init(context: InvocationContext, event: Data) {
        self.context = context
        self.event = event
    }
}
