/// Durations in milliseconds, as log lines and responses report them.
public enum Milliseconds {
    /// The time elapsed since `start`, in milliseconds.
    public static func since(_ start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    /// `milliseconds` to the microsecond (three decimals): more digits are noise, and JSON would print all
    /// seventeen.
    public static func rounded(_ milliseconds: Double) -> Double {
        (milliseconds * 1000).rounded() / 1000
    }
}
