import Foundation
import Testing

/// `export` and `evaluate --model` through the built binary, on a small run of three colours.
@Suite struct ExportCommandTests {
    @Test func exportChecksTheModelAndEvaluateReadsIt() throws {
        let root = try RunCommandTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, cache, run) = (root.appendingPathComponent("data").path, root.appendingPathComponent("cache").path,
                                  root.appendingPathComponent("run").path)
        let backbone = CommandLineTests.repository.appendingPathComponent("models/efficientnet-lite0.onnx").path
        let trained = try CommandLineTests.run(["run", "--data", data, "--backbone", backbone, "--cache", cache,
                                                "--output", run, "--epochs", "15", "--learning-rate", "0.01"])
        #expect(trained.status == 0, "\(trained.error)")
        let runAccuracy = try #require(trained.output.firstMatch(of: /accuracy +([0-9.]+) +12/)).1

        let model = root.appendingPathComponent("combined.onnx").path
        let exported = try CommandLineTests.run(["export", "--run", run, "--output", model, "--check-images", "8"])
        #expect(exported.status == 0, "\(exported.error)")
        #expect(exported.output.contains("output 'scores' [N, 3]"), "\(exported.output)")
        let check = try #require(exported.output.firstMatch(
            of: /self-check on 8 test images .*= ([0-9.e+-]+) \(tolerance 1e-04\); top-1 agrees on 8\/8/), "\(exported.output)")
        #expect(Double(check.1)! <= 1e-4)
        #expect(FileManager.default.fileExists(atPath: model))

        // The combined model on the image files gives the head's accuracy on the same 12 test images.
        let report = root.appendingPathComponent("report.json").path
        let evaluated = try CommandLineTests.run(["evaluate", "--model", model, "--data", data, "--report", report])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(evaluated.output.contains("on 12 test images"), "\(evaluated.output)")
        let modelAccuracy = try #require(evaluated.output.firstMatch(of: /accuracy +([0-9.]+) +12/)).1
        #expect(modelAccuracy == runAccuracy)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        #expect((metrics as? [String: Any])?["sampleCount"] as? Int == 12, "\(metrics)")

        let all = try CommandLineTests.run(["evaluate", "--model", model, "--data", data, "--split", "all"])
        #expect(all.status == 0 && all.output.contains("on 48 images"), "\(all.output)\(all.error)")

        // A plain backbone is not a combined model.
        try CommandLineTests.expectFailure(["evaluate", "--model", backbone, "--data", data],
                                           mentioning: "is not a combined model")

        // A run whose backbone no longer matches its recorded SHA-256 is refused, and nothing is written.
        let recordURL = URL(fileURLWithPath: run).appendingPathComponent("run.json")
        var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: recordURL)) as? [String: Any])
        record["backboneSHA256"] = String(repeating: "0", count: 64)
        try JSONSerialization.data(withJSONObject: record).write(to: recordURL)
        let refusedModel = root.appendingPathComponent("refused.onnx").path
        try CommandLineTests.expectFailure(["export", "--run", run, "--output", refusedModel],
                                           mentioning: "has changed since the run was trained")
        #expect(!FileManager.default.fileExists(atPath: refusedModel))
    }

    @Test func evaluateNeedsEitherARunOrAModelWithData() throws {
        try CommandLineTests.expectFailure(["evaluate"], mentioning: "pass either --run FOLDER")
        try CommandLineTests.expectFailure(["evaluate", "--model", "m.onnx"], mentioning: "--model needs --data")
        try CommandLineTests.expectFailure(["evaluate", "--run", "r", "--data", "d"], mentioning: "go with --model")
    }
}
