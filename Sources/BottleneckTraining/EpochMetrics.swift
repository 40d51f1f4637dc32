/// What one epoch measured.
public struct EpochMetrics: Sendable, Equatable, Codable {
    /// Counted from 1.
    public var epoch: Int
    /// Mean class-weighted, label-smoothed cross-entropy over the epoch's mini-batches (no weight-decay term).
    public var trainLoss: Double
    /// Fraction of training examples whose mini-batch prediction (with dropout) was right.
    public var trainAccuracy: Double
    /// Plain mean cross-entropy on the validation data, if any.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var learningRate: Float
    /// Wall-clock time of the epoch including validation.
    public var seconds: Double
}
