import Foundation

/// Classification metrics on a held-out split, computed once from the classifier's probabilities.
///
/// The numbers match scikit-learn's `accuracy_score`, `top_k_accuracy_score`, `precision_recall_fscore_support`
/// (`labels=range(classes)`, `zero_division` default), `confusion_matrix` and `log_loss`, with two documented
/// differences:
/// - ties between scores rank the lower class index first everywhere (as `argmax` does), so top-1 accuracy always
///   equals ``accuracy``; scikit-learn's `top_k_accuracy_score` ranks the higher index first among ties.
/// - log loss clips probabilities to `[1e-15, 1 - 1e-15]` (scikit-learn's historical `eps`); scikit-learn 1.5 and
///   later clip at float64 machine epsilon, so the two differ only when the true class got less than 1e-15.
///   Rows are not renormalised.
///
/// Every class in ``classNames`` is reported and averaged, including classes absent from the split.
public struct Evaluation: Codable, Equatable, Sendable {
    /// The class names, indexed by label.
    public let classNames: [String]
    /// The number of evaluated samples.
    public let sampleCount: Int
    /// The fraction of samples whose highest-probability class is the true class.
    public let accuracy: Double
    /// Element `k - 1` is the top-`k` accuracy: the fraction of samples whose true class is among the `k` most
    /// probable. The last element is always 1.
    public let topKAccuracies: [Double]
    /// Per-class precision, recall, F1 and support, indexed by label.
    public let perClass: [ClassMetrics]
    /// The unweighted mean of ``perClass`` over all classes.
    public let macro: AveragedMetrics
    /// The support-weighted mean of ``perClass``.
    public let weighted: AveragedMetrics
    /// `confusion[t][p]` counts samples of true class `t` predicted as class `p`.
    public let confusion: [[Int]]
    /// The mean negative log probability of the true class (natural log, clipped; see the type's documentation).
    public let logLoss: Double
    /// Every misclassified sample, worst first: lowest probability of the true class, then by sample index.
    public let mistakes: [Mistake]

    /// The probability bound used by ``logLoss``.
    public static let logLossEpsilon = 1e-15
    /// How many predictions each ``Mistake`` keeps.
    public static let mistakePredictionCount = 3

    /// Computes every metric.
    /// - Parameters:
    ///   - scores: Probabilities, row-major `[labels.count x classNames.count]`, each in `0...1`.
    ///   - labels: The true class index of each sample.
    ///   - classNames: The class names; at least two.
    ///   - identifiers: One identifier per sample (its image path), carried into ``mistakes``.
    public init(scores: [Float], labels: [Int], classNames: [String], identifiers: [String]) throws(EvaluationError) {
        let count = labels.count
        let classes = classNames.count
        guard count > 0 else { throw .noSamples }
        guard classes >= 2 else { throw .tooFewClasses(classes) }
        guard scores.count == count * classes else {
            throw .scoreCountMismatch(expected: count * classes, actual: scores.count)
        }
        guard identifiers.count == count else {
            throw .identifierCountMismatch(expected: count, actual: identifiers.count)
        }

        var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        var rankCounts = Array(repeating: 0, count: classes)
        var lossSum = 0.0
        var mistakes: [Mistake] = []
        for sample in 0..<count {
            let label = labels[sample]
            guard (0..<classes).contains(label) else { throw .labelOutOfRange(sample: sample, label: label) }
            let base = sample * classes
            for j in 0..<classes where !(scores[base + j] >= 0 && scores[base + j] <= 1) {
                throw .invalidProbability(sample: sample, classIndex: j, value: scores[base + j])
            }
            let trueScore = scores[base + label]
            // Rank of the true class when ties order the lower index first.
            var rank = 0
            for j in 0..<classes where scores[base + j] > trueScore || (scores[base + j] == trueScore && j < label) {
                rank += 1
            }
            rankCounts[rank] += 1
            let ordered = (0..<classes).sorted {
                scores[base + $0] != scores[base + $1] ? scores[base + $0] > scores[base + $1] : $0 < $1
            }
            let predicted = ordered[0]
            confusion[label][predicted] += 1
            let p = Double(trueScore)
            lossSum -= log(min(max(p, Self.logLossEpsilon), 1 - Self.logLossEpsilon))
            if predicted != label {
                mistakes.append(Mistake(
                    index: sample, identifier: identifiers[sample], trueLabel: label, trueClassProbability: p,
                    predictions: ordered.prefix(Self.mistakePredictionCount).map {
                        Mistake.Prediction(classIndex: $0, probability: Double(scores[base + $0]))
                    }))
            }
        }
        mistakes.sort {
            $0.trueClassProbability != $1.trueClassProbability
                ? $0.trueClassProbability < $1.trueClassProbability : $0.index < $1.index
        }

        let perClass = (0..<classes).map { c in
            let tp = confusion[c][c]
            let predictedAsC = (0..<classes).reduce(0) { $0 + confusion[$1][c] }
            let actualC = confusion[c].reduce(0, +)
            return ClassMetrics(
                name: classNames[c], truePositives: tp, falsePositives: predictedAsC - tp, falseNegatives: actualC - tp)
        }
        var cumulative = 0
        self.classNames = classNames
        self.sampleCount = count
        self.accuracy = Double(rankCounts[0]) / Double(count)
        self.topKAccuracies = rankCounts.map { cumulative += $0; return Double(cumulative) / Double(count) }
        self.perClass = perClass
        self.macro = .macro(perClass)
        self.weighted = .weighted(perClass)
        self.confusion = confusion
        self.logLoss = lossSum / Double(count)
        self.mistakes = mistakes
    }

    /// The fraction of samples whose true class is among the `k` most probable classes; 1 when `k` is at least
    /// the number of classes.
    public func topKAccuracy(_ k: Int) throws(EvaluationError) -> Double {
        guard k >= 1 else { throw .invalidTopK(k) }
        return topKAccuracies[min(k, topKAccuracies.count) - 1]
    }

    /// The evaluation as `report.json`: pretty-printed with sorted keys, so identical results give identical bytes.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
