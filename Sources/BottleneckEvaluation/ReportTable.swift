import Foundation

/// The plain-text report printed on stdout, laid out exactly like scikit-learn's `classification_report` (same
/// column widths and rounding), followed by log loss and top-k accuracy lines.
///
/// ```
///               precision    recall  f1-score   support
///
///          cat     0.5000    1.0000    0.6667         1
///     accuracy                         0.6000         5
///    macro avg     0.5000    0.5556    0.4889         5
/// weighted avg     0.7000    0.6000    0.6133         5
///
/// log loss: 0.912345
/// top-1 accuracy: 0.6000
/// ```
public enum ReportTable {
    /// The top-k values listed under the table (those below the class count).
    public static let topKValues = [1, 3, 5]

    /// Renders the table.
    /// - Parameters:
    ///   - evaluation: The metrics to print.
    ///   - digits: Decimal places of the ratios.
    public static func render(_ evaluation: Evaluation, digits: Int = 4) -> String {
        let headers = ["precision", "recall", "f1-score", "support"]
        let nameWidth = max(evaluation.classNames.map(\.count).max() ?? 0, "weighted avg".count)
        let columnWidth = max(headers.map(\.count).max() ?? 0, digits + 2)
        func pad(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        func ratio(_ value: Double) -> String { String(format: "%.\(digits)f", value) }
        func row(_ name: String, _ cells: [String]) -> String {
            pad(name, nameWidth) + " " + cells.map { " " + pad($0, columnWidth) }.joined()
        }
        var lines = [row("", headers), ""]
        for metrics in evaluation.perClass {
            lines.append(row(metrics.name, [
                ratio(metrics.precision), ratio(metrics.recall), ratio(metrics.f1), String(metrics.support),
            ]))
        }
        lines.append("")
        lines.append(row("accuracy", ["", "", ratio(evaluation.accuracy), String(evaluation.sampleCount)]))
        for (name, average) in [("macro avg", evaluation.macro), ("weighted avg", evaluation.weighted)] {
            lines.append(row(name, [
                ratio(average.precision), ratio(average.recall), ratio(average.f1), String(average.support),
            ]))
        }
        lines.append("")
        lines.append("log loss: " + String(format: "%.6f", evaluation.logLoss))
        for k in topKValues where k < evaluation.classNames.count {
            lines.append("top-\(k) accuracy: " + ratio(evaluation.topKAccuracies[k - 1]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
