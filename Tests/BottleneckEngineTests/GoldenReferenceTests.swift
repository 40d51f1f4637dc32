import BottleneckEngine
import Foundation
import Testing

/// The whole EfficientNet-Lite0 backbone against onnxruntime's golden outputs in ../shared/reference.
@Suite struct GoldenReferenceTests {
    struct Golden: Decodable {
        let top5_class_index: [Int]
    }

    static let names = ["chelsea", "coffee", "camera", "horse", "rocket"]
    static let imageShape = [3, 224, 224]

    let model: InferenceModel
    let expected: [String: Golden]

    init() throws {
        let url = TestPaths.reference.appendingPathComponent("efficientnet-lite0.onnx")
        model = try InferenceModel(contentsOf: url, outputs: ["features", "logits"])
        let json = try Data(contentsOf: TestPaths.reference.appendingPathComponent("golden/expected.json"))
        let byFile = try JSONDecoder().decode([String: Golden].self, from: json)
        expected = Dictionary(uniqueKeysWithValues: byFile.map { (String($0.key.split(separator: ".")[0]), $0.value) })
    }

    func input(_ name: String) throws -> [Float] {
        try TestPaths.floats(TestPaths.reference.appendingPathComponent("golden/\(name).input.f32"))
    }

    // Tolerance 1e-3 absolute: the reference README's bar. Summation order differs from onnxruntime's (NHWC
    // blocking, folded BatchNorm recomputed in float32), which moves features by ~1e-5 in practice.
    @Test(arguments: names, [1, 2])
    func featuresAndTop5MatchOnnxRuntime(name: String, threads: Int) throws {
        let session = InferenceSession(model: model, threads: threads)
        let outputs = try session.run(try input(name), shape: [1] + Self.imageShape)
        let golden = try TestPaths.floats(TestPaths.reference.appendingPathComponent("golden/\(name).features.f32"))
        let features = try #require(outputs["features"])
        #expect(features.shape == [1, 1280])
        let difference = TestPaths.maximumDifference(features.values, golden)
        #expect(difference < 1e-3, "max |features - golden| = \(difference)")
        let logits = try #require(outputs["logits"]).values
        let top5 = Array(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5))
        #expect(top5 == expected[name]?.top5_class_index)
    }

    // The blocks whose expanded tensor outgrows L2 run fused (InvertedBottleneck), so the comparisons above cover
    // the fused kernels: the first six inverted-residual blocks of EfficientNet-Lite0, at 112x112 to 28x28.
    @Test func largeBlocksRunFused() throws {
        let session = InferenceSession(model: model, threads: 1)
        let labels = try session.profile(try input("chelsea"), shape: [1] + Self.imageShape).map(\.label)
        #expect(labels.filter { $0.contains("[InvertedBottleneck") }.count == 6, "\(labels)")
    }

    // A batch of all five images gives each image's single-run result: one stream with groups of 4 and 1 images
    // (1 thread), two streams with groups of 3 and 2 (2 threads). Tolerance 1e-5: the same kernels, with the
    // pixels of a 1x1 convolution's register tiles drawn from different images.
    @Test(arguments: [1, 2])
    func batchEqualsSingleImages(threads: Int) throws {
        let session = InferenceSession(model: model, threads: threads)
        var batch: [Float] = []
        for name in Self.names { batch += try input(name) }
        let outputs = try session.run(batch, shape: [Self.names.count] + Self.imageShape)
        let features = try #require(outputs["features"])
        #expect(features.shape == [Self.names.count, 1280])
        for (index, name) in Self.names.enumerated() {
            let single = try session.run(try input(name), shape: [1] + Self.imageShape)["features"]!
            let difference = TestPaths.maximumDifference(features.item(index), single.values)
            #expect(difference < 1e-5, "image \(name): max difference \(difference)")
        }
    }

    @Test func defaultOutputIsThePooledFeatures() throws {
        let url = TestPaths.reference.appendingPathComponent("efficientnet-lite0.onnx")
        let bottleneck = try InferenceModel(contentsOf: url)
        #expect(bottleneck.outputNames == ["features"])
        #expect(!bottleneck.graph.nodes.contains { $0.operation.name.hasPrefix("Gemm") })
    }

    @Test func optimizerFusesEveryActivationAndResidual() throws {
        let kinds = model.graph.nodes.map(\.operation.name)
        #expect(!kinds.contains("Clip"), "every ReLU6 should be fused into its convolution")
        #expect(!kinds.contains("Add"), "every residual add should be fused into its projection")
        #expect(kinds.filter { $0.hasPrefix("DepthwiseConv") }.count == 16)
    }

    @Test func wrongInputShapeIsAClearError() throws {
        let session = InferenceSession(model: model, threads: 1)
        #expect {
            _ = try session.run([Float](repeating: 0, count: 3 * 200 * 200), shape: [1, 3, 200, 200])
        } throws: { error in
            "\(error)".contains("dimension 2 must be 224")
        }
        #expect(throws: EngineError.self) {
            _ = try session.run([Float](repeating: 0, count: 10), shape: [1, 3, 224, 224])
        }
    }
}
