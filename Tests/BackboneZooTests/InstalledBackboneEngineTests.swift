import BackboneZoo
import BottleneckEngine
import Foundation
import Testing

/// What `bottleneck backbone install efficientnet-lite0` writes, run by our own engine: the golden features and
/// top-5 classes of ../shared/reference, and ImageNet labels in its metadata.
@Suite(.enabled(if: Fixtures.hasWeights && Fixtures.hasReference, Comment(rawValue: Fixtures.noWeights)))
struct InstalledBackboneEngineTests {
    struct Golden: Decodable {
        let top5_class_index: [Int]
    }

    @Test func installedLite0MatchesTheGoldenOutputs() throws {
        let folder = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let installed = try BackboneInstaller(projectRoot: Fixtures.repositoryRoot, allowsPipInstall: false).install(
            name: "efficientnet-lite0", weights: Fixtures.lite0Weights, labels: Fixtures.imagenetLabels,
            output: folder.appendingPathComponent("lite0.onnx"), requireLabels: false)
        let model = try InferenceModel(contentsOf: installed.modelURL, outputs: ["features", "logits"])
        let session = InferenceSession(model: model, threads: 2)
        let goldenFolder = Fixtures.referenceFolder.appendingPathComponent("golden")
        let expected = try JSONDecoder().decode(
            [String: Golden].self, from: Data(contentsOf: goldenFolder.appendingPathComponent("expected.json")))
        for (file, golden) in expected {
            let name = String(file.split(separator: ".")[0])
            let input = try floats(goldenFolder.appendingPathComponent("\(name).input.f32"))
            let outputs = try session.run(input, shape: [1, 3, 224, 224])
            let features = try floats(goldenFolder.appendingPathComponent("\(name).features.f32"))
            // 1e-3 absolute: the reference README's bar (float32 summation order differs from onnxruntime's).
            let difference = zip(try #require(outputs["features"]).values, features).map { abs($0 - $1) }.max() ?? 0
            #expect(difference < 1e-3, "\(name): max |features - golden| = \(difference)")
            let logits = try #require(outputs["logits"]).values
            #expect(Array(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5)) == golden.top5_class_index)
        }
        // The default bottleneck of an installed model is named in its metadata.
        #expect(try InferenceModel(contentsOf: installed.modelURL).outputNames == ["features"])
        if Fixtures.imagenetLabels != nil {
            let labels = try JSONDecoder().decode([String].self, from: Data(
                try #require(model.metadata["bottleneck.labels"]).utf8))
            #expect(labels.count == 1000 && labels[967] == "espresso")
        }
    }

    private func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { bytes in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }
}
