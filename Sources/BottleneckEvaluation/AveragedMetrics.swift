/// Precision, recall and F1 averaged over classes: the "macro avg" and "weighted avg" rows of scikit-learn's
/// `classification_report`.
public struct AveragedMetrics: Codable, Equatable, Sendable {
    /// The averaged precision.
    public let precision: Double
    /// The averaged recall.
    public let recall: Double
    /// The averaged per-class F1 (not the harmonic mean of the averaged precision and recall).
    public let f1: Double
    /// The total number of samples.
    public let support: Int

    /// The unweighted mean over all classes, including classes with no samples.
    static func macro(_ classes: [ClassMetrics]) -> AveragedMetrics {
        average(classes) { _ in 1 }
    }

    /// The mean over classes weighted by support.
    static func weighted(_ classes: [ClassMetrics]) -> AveragedMetrics {
        average(classes) { Double($0.support) }
    }

    private static func average(_ classes: [ClassMetrics], weight: (ClassMetrics) -> Double) -> AveragedMetrics {
        let total = classes.reduce(0) { $0 + weight($1) }
        func mean(_ value: (ClassMetrics) -> Double) -> Double {
            total == 0 ? 0 : classes.reduce(0) { $0 + weight($1) * value($1) } / total
        }
        return AveragedMetrics(
            precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1),
            support: classes.reduce(0) { $0 + $1.support })
    }
}
