/// Why an ``Evaluation`` could not be computed from its inputs.
public enum EvaluationError: Error, Equatable, Sendable {
    /// There are no samples to evaluate.
    case noSamples
    /// Fewer than two class names were given.
    case tooFewClasses(Int)
    /// `scores.count` is not `labels.count * classNames.count`.
    case scoreCountMismatch(expected: Int, actual: Int)
    /// `identifiers.count` is not `labels.count`.
    case identifierCountMismatch(expected: Int, actual: Int)
    /// A label is outside `0..<classNames.count`.
    case labelOutOfRange(sample: Int, label: Int)
    /// A score is NaN, infinite, negative or greater than one.
    case invalidProbability(sample: Int, classIndex: Int, value: Float)
    /// `topKAccuracy(_:)` was asked for a `k` below 1.
    case invalidTopK(Int)
}
