/// The trained head and how training went.
public struct TrainingResult: Sendable {
    /// The head after the best epoch: lowest validation loss when validation data was given, else the last epoch.
    public var head: Head
    /// One entry per epoch that ran.
    public var metrics: [EpochMetrics]
    /// The epoch (from 1) whose weights `head` holds.
    public var bestEpoch: Int
    /// True when early stopping ended training before `epochs`.
    public var stoppedEarly: Bool
}
