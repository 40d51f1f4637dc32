/// How often and how patiently a failed request is sent again: exponential backoff with full jitter.
///
/// Before attempt `n + 1` the client sleeps a random time between zero and
/// `min(maxBackoff, initialBackoff * 2^(n-1))`, so clients that failed together do not retry together.
public struct RetryPolicy: Sendable {
    /// The most times a request is sent, the first included (1 = no retries). Default 4.
    public var maxAttempts: Int
    /// The backoff cap before the second attempt. Default 100 ms.
    public var initialBackoff: Duration
    /// The largest backoff cap. Default 5 s.
    public var maxBackoff: Duration

    /// Creates a policy; `maxAttempts` must be at least 1 and the backoffs non-negative (programmer error).
    public init(
        maxAttempts: Int = 4, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5)
    ) {
        precondition(maxAttempts >= 1, "RetryPolicy.maxAttempts must be at least 1")
        precondition(initialBackoff >= .zero && maxBackoff >= .zero, "RetryPolicy backoffs must not be negative")
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// The randomised pause, in seconds, after failed attempt `attempt` (1-based).
    func backoffSeconds(afterAttempt attempt: Int) -> Double {
        let doublings = min(attempt - 1, 30)
        let cap = min(maxBackoff, initialBackoff * (1 << doublings))
        return Double.random(in: 0...(Double(cap.components.seconds) + Double(cap.components.attoseconds) / 1e18))
    }
}
