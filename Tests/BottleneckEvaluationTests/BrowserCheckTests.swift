import Foundation
import Testing
@testable import BottleneckEvaluation

/// Writes a report for a synthetic 10-class evaluation and loads it in headless Chromium through
/// scripts/check-report.sh. Skipped when Chromium is absent, except under CI=true, where the script installs it
/// (as root) or the test fails.
@Suite("report.html in a headless browser")
struct BrowserCheckTests {
    static let script = TestSupport.packageRoot.appendingPathComponent("scripts/check-report.sh").path

    static let chromiumInstalled: Bool = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// A 24 x 24 thumbnail: a diagonal gradient tinted by class, so different classes look different.
    static func thumbnail(classIndex: Int, classes: Int) -> Data {
        let hue = Double(classIndex) / Double(classes)
        let tint = [0.5 + 0.5 * cos(2 * .pi * hue), 0.5 + 0.5 * cos(2 * .pi * (hue - 1.0 / 3)),
                    0.5 + 0.5 * cos(2 * .pi * (hue - 2.0 / 3))]
        var pixels: [UInt8] = []
        for y in 0..<24 {
            for x in 0..<24 {
                let shade = 0.35 + 0.65 * Double(x + y) / 46
                pixels += tint.map { UInt8(min(255, 255 * $0 * shade)) }
            }
        }
        return TinyPNG.encode(width: 24, height: 24, pixels: pixels)
    }

    @Test("10-class report loads without errors and shows every figure",
          .enabled(if: chromiumInstalled || TestSupport.isCI,
                   "Debian's chromium is not installed (apt-get install chromium, or run with CI=true as root)"))
    func tenClassReport() throws {
        let classes = 10
        let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                     "Bag & <Boot> \"ünï\""]  + ["Ankle boot"]
        let (scores, labels) = TestSupport.randomProblem(count: 400, classes: classes, seed: 2026)
        let identifiers = labels.indices.map { "test/\(names[labels[$0]])/\($0).png" }
        let evaluation = try Evaluation(scores: scores, labels: labels, classNames: names, identifiers: identifiers)
        let thumbnails = Dictionary(uniqueKeysWithValues: labels.indices.map {
            (identifiers[$0], Self.thumbnail(classIndex: labels[$0], classes: classes))
        })
        let epochs = (1...20).map { epoch -> EpochRecord in
            let t = Double(epoch)
            return EpochRecord(epoch: epoch, trainLoss: 0.3 + 1.9 * exp(-t / 4), trainAccuracy: 0.93 - 0.6 * exp(-t / 4),
                               validationLoss: 0.42 + 1.8 * exp(-t / 4) + 0.004 * t,
                               validationAccuracy: 0.88 - 0.55 * exp(-t / 4), learningRate: 0.01)
        }
        let html = HTMLReport.render(
            evaluation: evaluation, epochs: epochs, thumbnails: thumbnails, title: "Fashion-MNIST head (synthetic)",
            metadata: ["backbone": "mobilenetv2-7", "head": "softmax regression", "split": "test (400 images)"])

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: report)
        try evaluation.jsonData().write(to: directory.appendingPathComponent("report.json"))

        let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-report-10.png").path
        let output: String
        do {
            output = try TestSupport.run("/bin/bash", [Self.script, report.path, screenshot])
        } catch {
            Issue.record("check-report.sh failed: \(error)")
            return
        }
        #expect(output.contains("check-report: OK"))
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }
}

extension BrowserCheckTests {
    @Test("100-class report without training history still passes the browser check",
          .enabled(if: chromiumInstalled || TestSupport.isCI,
                   "Debian's chromium is not installed (apt-get install chromium, or run with CI=true as root)"))
    func hundredClassesNoEpochs() throws {
        let classes = 100
        let names = (0..<classes).map { "category \($0) with a long name" }
        let (scores, labels) = TestSupport.randomProblem(count: 2000, classes: classes, seed: 100)
        let identifiers = labels.indices.map { "val/\($0).png" }
        let evaluation = try Evaluation(scores: scores, labels: labels, classNames: names, identifiers: identifiers)
        let thumbnails = Dictionary(uniqueKeysWithValues: evaluation.mistakes.prefix(12).map {
            ($0.identifier, Self.thumbnail(classIndex: $0.trueLabel, classes: classes))
        })
        let html = HTMLReport.render(evaluation: evaluation, epochs: [], thumbnails: thumbnails,
                                     title: "100 classes", metadata: [:], mistakeCount: 12)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = directory.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: report)
        let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-report-100.png").path
        do {
            let output = try TestSupport.run("/bin/bash", [Self.script, report.path, screenshot])
            #expect(output.contains("check-report: OK"))
        } catch {
            Issue.record("check-report.sh failed: \(error)")
        }
    }
}
