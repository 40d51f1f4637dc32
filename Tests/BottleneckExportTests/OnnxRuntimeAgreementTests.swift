import BottleneckEngine
import BottleneckExport
import BottleneckTraining
import Foundation
import ONNXSchema
import Testing

/// An EfficientNet-Lite0 combined model, checked by scripts/check-export.py: onnx.checker accepts it, and
/// onnxruntime's scores equal our engine's on the five golden inputs of ../shared/reference within 1e-4.
@Suite(.enabled(if: ExportFixtures.hasLite0AndPython, Comment(rawValue: ExportFixtures.noLite0AndPython)))
struct OnnxRuntimeAgreementTests {
    // Tolerance 1e-4 in probability (the bar): both run the same graph in float32; features differ from
    // onnxruntime's by up to ~1e-3 absolute at worst (the golden tests' bar, other summation order), which moves
    // logits of a head with standardised weights by ~1e-4 and probabilities by less.

    @Test("softmax head: onnxruntime and our engine agree within 1e-4", arguments: [nil, 32] as [Int?])
    func agreement(hiddenUnits: Int?) throws {
        let folder = try ExportFixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Weights of 0.05 on 1280 standardised features: logits spread over a few units, as a trained head's.
        let head = ExportFixtures.head(dimension: 1280, classes: 10, hiddenUnits: hiddenUnits, weightScale: 0.05,
                                       featureMean: 0.5)
        let backbone = try Onnx_ModelProto(contentsOf: ExportFixtures.lite0)
        let model = try CombinedModelBuilder(backbone: backbone, bottleneckTensor: "features", head: head)
            .makeModel(metadata: try ExportFixtures.metadata(for: head))
        let modelURL = folder.appendingPathComponent("combined.onnx")
        try CombinedModelBuilder.write(model, to: modelURL)

        var inputs: [Float] = []
        for name in ExportFixtures.goldenNames {
            inputs += try ExportFixtures.floats(ExportFixtures.golden.appendingPathComponent("\(name).input.f32"))
        }
        let count = ExportFixtures.goldenNames.count
        let session = InferenceSession(model: try InferenceModel(contentsOf: modelURL, outputs: ["scores"]), threads: 2)
        let scores = try #require(try session.run(inputs, shape: [count, 3, 224, 224])["scores"]).values
        #expect(scores.count == count * 10)
        #expect((scores.max() ?? 0) - (scores.min() ?? 0) > 0.05, "the head should not give near-uniform scores")
        try ExportFixtures.write(inputs, to: folder.appendingPathComponent("inputs.f32"))
        try ExportFixtures.write(scores, to: folder.appendingPathComponent("scores.f32"))

        let result = try Self.checkExport(modelURL, in: folder)
        #expect(result.status == 0, "check-export.py failed: \(result.stderr)")
        let figures = try JSONSerialization.jsonObject(with: result.printed) as? [String: Any]
        let difference = try #require(figures?["max_abs_diff"] as? Double)
        #expect(difference <= 1e-4)
        #expect(figures?["top1_agree"] as? Int == count)

        // NaN compares false with any tolerance: a NaN score must fail the check, not slip through it.
        var damaged = scores
        damaged[3] = .nan
        try ExportFixtures.write(damaged, to: folder.appendingPathComponent("scores.f32"))
        let refused = try Self.checkExport(modelURL, in: folder)
        #expect(refused.status == 1 && refused.stderr.contains("NaN"), "\(refused.stderr)")
        print("onnxruntime vs engine, hidden units \(hiddenUnits.map(String.init) ?? "none"): max |diff| \(difference)")
    }

    /// Runs scripts/check-export.py on `model` with `inputs.f32` and `scores.f32` of `folder`.
    static func checkExport(_ model: URL, in folder: URL) throws -> (status: Int32, printed: Data, stderr: String) {
        let process = Process()
        process.executableURL = ExportFixtures.python
        process.arguments = [ExportFixtures.checkScript.path, model.path,
                             folder.appendingPathComponent("inputs.f32").path,
                             folder.appendingPathComponent("scores.f32").path, "--tolerance", "1e-4"]
        let output = Pipe()
        let errors = folder.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, printed, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }
}
