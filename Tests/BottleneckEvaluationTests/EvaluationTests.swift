import Foundation
import Testing
@testable import BottleneckEvaluation

@Suite("Evaluation metrics on hand-computed examples")
struct EvaluationTests {
    /// 5 samples, 3 classes; the expected values are worked out by hand in the comments.
    static func small() throws -> Evaluation {
        try Evaluation(
            scores: [
                0.7, 0.2, 0.1,  // true 0, predicted 0
                0.3, 0.6, 0.1,  // true 0, predicted 1 (p_true 0.3)
                0.2, 0.5, 0.3,  // true 1, predicted 1
                0.1, 0.1, 0.8,  // true 2, predicted 2
                0.1, 0.6, 0.3,  // true 2, predicted 1 (p_true 0.3, ties with sample 1)
            ],
            labels: [0, 0, 1, 2, 2], classNames: ["a", "b", "c"], identifiers: ["s0", "s1", "s2", "s3", "s4"])
    }

    @Test func smallExample() throws {
        let e = try Self.small()
        #expect(e.sampleCount == 5)
        #expect(e.accuracy == 0.6)
        #expect(e.confusion == [[1, 1, 0], [0, 1, 0], [0, 1, 1]])
        #expect(e.topKAccuracies == [0.6, 1, 1])
        #expect(try e.topKAccuracy(1) == 0.6)
        #expect(try e.topKAccuracy(2) == 1)
        #expect(try e.topKAccuracy(9) == 1)
        #expect(throws: EvaluationError.invalidTopK(0)) { try e.topKAccuracy(0) }

        // a: tp 1 fp 0 fn 1; b: tp 1 fp 2 fn 0; c: tp 1 fp 0 fn 1.
        let expected: [(Double, Double, Double, Int)] = [(1, 0.5, 2.0 / 3), (1.0 / 3, 1, 0.5), (1, 0.5, 2.0 / 3)]
            .enumerated().map { ($1.0, $1.1, $1.2, [2, 1, 2][$0]) }
        for (metrics, (p, r, f, s)) in zip(e.perClass, expected) {
            #expect(abs(metrics.precision - p) < 1e-12)
            #expect(abs(metrics.recall - r) < 1e-12)
            #expect(abs(metrics.f1 - f) < 1e-12)
            #expect(metrics.support == s)
        }
        #expect(e.perClass.map(\.name) == ["a", "b", "c"])
        #expect(abs(e.macro.precision - 7.0 / 9) < 1e-12)
        #expect(abs(e.macro.recall - 2.0 / 3) < 1e-12)
        #expect(abs(e.macro.f1 - 11.0 / 18) < 1e-12)
        #expect(e.macro.support == 5)
        #expect(abs(e.weighted.precision - 13.0 / 15) < 1e-12)
        #expect(abs(e.weighted.recall - 0.6) < 1e-12)
        #expect(abs(e.weighted.f1 - 19.0 / 30) < 1e-12)

        let trueProbabilities: [Float] = [0.7, 0.3, 0.5, 0.8, 0.3]
        let loss = -trueProbabilities.map { log(Double($0)) }.reduce(0, +) / 5
        #expect(abs(e.logLoss - loss) < 1e-12)

        // Both mistakes gave the true class 0.3: the earlier sample comes first.
        #expect(e.mistakes.map(\.identifier) == ["s1", "s4"])
        #expect(e.mistakes[0].trueLabel == 0)
        #expect(e.mistakes[0].predictions.map(\.classIndex) == [1, 0, 2])
        #expect(e.mistakes[1].predictions.map(\.classIndex) == [1, 2, 0])
        #expect(e.mistakes[1].predictions[0].probability == Double(Float(0.6)))
    }

    @Test func worstMistakeFirst() throws {
        let e = try Evaluation(
            scores: [0.4, 0.6, 0.1, 0.9, 0.45, 0.55], labels: [0, 0, 0], classNames: ["x", "y"],
            identifiers: ["a", "b", "c"])
        #expect(e.mistakes.map(\.identifier) == ["b", "a", "c"])
        #expect(e.mistakes.allSatisfy { $0.predictions.count == 2 })
    }

    @Test func zeroDivisionGivesZero() throws {
        // Class "never" has no samples and is never predicted; class "missed" has samples but is never predicted.
        let e = try Evaluation(
            scores: [0.9, 0.1, 0, 0.8, 0.2, 0, 0.6, 0.4, 0], labels: [0, 0, 1],
            classNames: ["seen", "missed", "never"], identifiers: ["a", "b", "c"])
        #expect(e.perClass[1] == ClassMetrics(name: "missed", truePositives: 0, falsePositives: 0, falseNegatives: 1))
        #expect(e.perClass[1].precision == 0 && e.perClass[1].recall == 0 && e.perClass[1].f1 == 0)
        #expect(e.perClass[2].precision == 0 && e.perClass[2].recall == 0 && e.perClass[2].f1 == 0)
        #expect(e.perClass[2].support == 0)
        // seen: tp 2 fp 1 fn 0 -> precision 2/3, recall 1, f1 0.8. Macro averages over all three classes.
        #expect(abs(e.macro.precision - 2.0 / 9) < 1e-12)
        #expect(abs(e.macro.recall - 1.0 / 3) < 1e-12)
        #expect(abs(e.macro.f1 - 0.8 / 3) < 1e-12)
        #expect(abs(e.weighted.f1 - 0.8 * 2 / 3) < 1e-12)
    }

    @Test func logLossClipsZeroAndOne() throws {
        let e = try Evaluation(
            scores: [0, 1, 1, 0], labels: [0, 0], classNames: ["x", "y"], identifiers: ["a", "b"])
        let expected = (-log(1e-15) - log(1 - 1e-15)) / 2
        #expect(abs(e.logLoss - expected) < 1e-9)
        #expect(e.logLoss.isFinite)
    }

    @Test func rejectsInvalidInput() {
        #expect(throws: EvaluationError.noSamples) {
            try Evaluation(scores: [], labels: [], classNames: ["x", "y"], identifiers: [])
        }
        #expect(throws: EvaluationError.tooFewClasses(1)) {
            try Evaluation(scores: [1], labels: [0], classNames: ["x"], identifiers: ["a"])
        }
        #expect(throws: EvaluationError.scoreCountMismatch(expected: 2, actual: 3)) {
            try Evaluation(scores: [0.5, 0.5, 0], labels: [0], classNames: ["x", "y"], identifiers: ["a"])
        }
        #expect(throws: EvaluationError.identifierCountMismatch(expected: 1, actual: 0)) {
            try Evaluation(scores: [0.5, 0.5], labels: [0], classNames: ["x", "y"], identifiers: [])
        }
        #expect(throws: EvaluationError.labelOutOfRange(sample: 0, label: 2)) {
            try Evaluation(scores: [0.5, 0.5], labels: [2], classNames: ["x", "y"], identifiers: ["a"])
        }
        #expect(throws: EvaluationError.invalidProbability(sample: 0, classIndex: 1, value: 1.5)) {
            try Evaluation(scores: [0.5, 1.5], labels: [0], classNames: ["x", "y"], identifiers: ["a"])
        }
        #expect(throws: EvaluationError.self) {
            try Evaluation(scores: [0.5, .nan], labels: [0], classNames: ["x", "y"], identifiers: ["a"])
        }
    }

    @Test func jsonIsStableAndRoundTrips() throws {
        let e = try Self.small()
        let data = try e.jsonData()
        #expect(try e.jsonData() == data)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\n  \"accuracy\" : 0.6"))
        let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == keys.sorted())
        #expect(try JSONDecoder().decode(Evaluation.self, from: data) == e)
    }

    @Test func tableLooksLikeScikitLearn() throws {
        let table = ReportTable.render(try Self.small(), digits: 2)
        // classification_report([0,0,1,2,2], [0,1,1,2,1], target_names=["a","b","c"], digits=2), scikit-learn 1.9.1.
        let sklearn = "              precision    recall  f1-score   support\n\n"
            + "           a       1.00      0.50      0.67         2\n"
            + "           b       0.33      1.00      0.50         1\n"
            + "           c       1.00      0.50      0.67         2\n\n"
            + "    accuracy                           0.60         5\n"
            + "   macro avg       0.78      0.67      0.61         5\n"
            + "weighted avg       0.87      0.60      0.63         5\n"
        #expect(table.hasPrefix(sklearn))
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("log loss: 0.736") })
        #expect(lines.contains("top-1 accuracy: 0.60"))
        #expect(!lines.contains { $0.hasPrefix("top-3") })
    }
}
