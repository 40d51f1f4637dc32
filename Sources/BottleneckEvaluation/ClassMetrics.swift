/// Precision, recall and F1 of one class, as in scikit-learn's `precision_recall_fscore_support`.
///
/// Zero division follows scikit-learn's default (`zero_division="warn"`, which yields 0): precision is 0 when the
/// class was never predicted, recall is 0 when the class has no samples, and F1 (computed as
/// `2·tp / (2·tp + fp + fn)`) is 0 when the class was neither present nor predicted.
public struct ClassMetrics: Codable, Equatable, Sendable {
    /// The class name.
    public let name: String
    /// `tp / (tp + fp)`, or 0 when the class was never predicted.
    public let precision: Double
    /// `tp / (tp + fn)`, or 0 when the class has no samples.
    public let recall: Double
    /// The harmonic mean of precision and recall, or 0 when both are undefined or zero.
    public let f1: Double
    /// The number of samples whose true label is this class.
    public let support: Int

    /// Computes the metrics from the counts of one class.
    init(name: String, truePositives tp: Int, falsePositives fp: Int, falseNegatives fn: Int) {
        self.name = name
        precision = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
        recall = tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn)
        f1 = 2 * tp + fp + fn == 0 ? 0 : Double(2 * tp) / Double(2 * tp + fp + fn)
        support = tp + fn
    }
}
