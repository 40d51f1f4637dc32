import Foundation
import Testing
@testable import BottleneckEvaluation

/// Compares every metric with scikit-learn on a random problem, running the project venv's Python.
@Suite("Evaluation agrees with scikit-learn")
struct ScikitLearnTests {
    static let python = TestSupport.packageRoot.appendingPathComponent(".venv/bin/python").path

    /// Whether the venv has scikit-learn (scripts/requirements.txt pins it; `make venv` installs it).
    static let available: Bool = (try? TestSupport.run(python, ["-c", "import sklearn"])) != nil

    struct Reference: Decodable {
        let accuracy: Double
        let topK: [Double]
        let precision: [Double]
        let recall: [Double]
        let f1: [Double]
        let support: [Int]
        let macro: [Double]
        let weighted: [Double]
        let confusion: [[Int]]
        let logLoss: Double
        let report: String
    }

    static let script = """
        import json, sys, warnings
        import numpy as np
        from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix, log_loss,
                                     precision_recall_fscore_support, top_k_accuracy_score)
        warnings.simplefilter("ignore")  # zero-division and float32 rows not summing to exactly 1
        problem = json.load(open(sys.argv[1]))
        y, names = np.array(problem["labels"]), problem["names"]
        p = np.array(problem["scores"], dtype=np.float64).reshape(len(y), len(names))
        labels = list(range(len(names)))
        pred = p.argmax(axis=1)
        prf = precision_recall_fscore_support(y, pred, labels=labels)
        avg = lambda a: list(precision_recall_fscore_support(y, pred, labels=labels, average=a)[:3])
        print(json.dumps({
            "accuracy": accuracy_score(y, pred),
            "topK": [top_k_accuracy_score(y, p, k=k, labels=labels) for k in range(1, len(names))],
            "precision": prf[0].tolist(), "recall": prf[1].tolist(), "f1": prf[2].tolist(),
            "support": prf[3].tolist(), "macro": avg("macro"), "weighted": avg("weighted"),
            "confusion": confusion_matrix(y, pred, labels=labels).tolist(),
            "logLoss": log_loss(y, p, labels=labels),
            "report": classification_report(y, pred, labels=labels, target_names=names, digits=4),
        }))
        """

    func reference(scores: [Float], labels: [Int], names: [String]) throws -> Reference {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sklearn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("problem.json")
        // Double(Float) prints the exact float32 value, so Python sees the same numbers.
        struct Problem: Encodable { let scores: [Double]; let labels: [Int]; let names: [String] }
        try JSONEncoder().encode(Problem(scores: scores.map(Double.init), labels: labels, names: names)).write(to: input)
        let scriptURL = directory.appendingPathComponent("reference.py")
        try Data(Self.script.utf8).write(to: scriptURL)
        let output = try TestSupport.run(Self.python, [scriptURL.path, input.path])
        return try JSONDecoder().decode(Reference.self, from: Data(output.utf8))
    }

    func compare(scores: [Float], labels: [Int], names: [String]) throws {
        let e = try Evaluation(
            scores: scores, labels: labels, classNames: names, identifiers: labels.indices.map { "img\($0).png" })
        let r = try reference(scores: scores, labels: labels, names: names)
        let tolerance = 1e-6
        #expect(abs(e.accuracy - r.accuracy) < tolerance)
        for (k, expected) in r.topK.enumerated() {
            #expect(abs(try e.topKAccuracy(k + 1) - expected) < tolerance, "top-\(k + 1)")
        }
        #expect(e.perClass.map(\.support) == r.support)
        for c in names.indices {
            #expect(abs(e.perClass[c].precision - r.precision[c]) < tolerance, "precision \(c)")
            #expect(abs(e.perClass[c].recall - r.recall[c]) < tolerance, "recall \(c)")
            #expect(abs(e.perClass[c].f1 - r.f1[c]) < tolerance, "f1 \(c)")
        }
        for (average, expected) in [(e.macro, r.macro), (e.weighted, r.weighted)] {
            #expect(abs(average.precision - expected[0]) < tolerance)
            #expect(abs(average.recall - expected[1]) < tolerance)
            #expect(abs(average.f1 - expected[2]) < tolerance)
        }
        #expect(e.confusion == r.confusion)
        #expect(abs(e.logLoss - r.logLoss) < tolerance)
        #expect(ReportTable.render(e, digits: 4).hasPrefix(r.report), "table differs from classification_report")
    }

    @Test("random 200 x 7 problem", .enabled(if: available || TestSupport.isCI, "scikit-learn is not in .venv (make venv)"))
    func random200x7() throws {
        let (scores, labels) = TestSupport.randomProblem(count: 200, classes: 7, seed: 42)
        try compare(scores: scores, labels: labels, names: (0..<7).map { "class \($0)" })
    }

    @Test("zero division: an absent class and a never-predicted class",
          .enabled(if: available || TestSupport.isCI, "scikit-learn is not in .venv (make venv)"))
    func zeroDivision() throws {
        var (scores, labels) = TestSupport.randomProblem(count: 60, classes: 5, seed: 7)
        // Class 4: never the true label and never predicted.
        for i in labels.indices {
            if labels[i] == 4 { labels[i] = 0 }
            scores[i * 5 + 4] = 1e-7 * Float(i + 1)  // tiny but distinct: no ties, no clipping
        }
        // Class 3: keeps its samples but is never predicted. (Rows then sum to less than 1: scikit-learn only warns.)
        for i in labels.indices {
            let row = (i * 5)..<(i * 5 + 5)
            if scores[row].max() == scores[i * 5 + 3] { scores[i * 5 + 3] *= 0.01 }
        }
        let e = try Evaluation(scores: scores, labels: labels, classNames: ["a", "b", "c", "d", "e"],
                               identifiers: labels.map { _ in "x" })
        #expect(e.perClass[3].support > 0 && e.perClass[3].precision == 0)
        #expect(e.perClass[4].support == 0)
        try compare(scores: scores, labels: labels, names: ["a", "b", "c", "d", "e"])
    }
}
