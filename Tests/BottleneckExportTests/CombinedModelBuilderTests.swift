import BottleneckEngine
import BottleneckExport
import BottleneckImages
import BottleneckTraining
import Foundation
import ONNXSchema
import Testing

/// The combined model, built on a tiny synthetic backbone and run by our engine, against the head's own scores on
/// the backbone's features.
@Suite struct CombinedModelBuilderTests {
    /// A batch of 4 images of [3, 6, 6].
    static let batch: [Float] = {
        var values = ExportFixtures.Values(seed: 3)
        return values.array(4 * 3 * 6 * 6, scale: 2)
    }()

    /// Runs `model` by our engine on `batch`, computing `output`.
    static func run(_ model: Onnx_ModelProto, output: String, threads: Int = 1) throws -> [Float] {
        let graph = try ONNXImporter.importModel(serialized: try model.serializedONNX(), source: "test model")
        let session = InferenceSession(model: try InferenceModel(graph: graph, outputs: [output]), threads: threads)
        return try #require(try session.run(batch, shape: [4, 3, 6, 6])[output]).values
    }

    /// The combined model's scores and the head's scores on the backbone's `tensor`, flattened per image.
    static func scores(head: Head, tensor: String, threads: Int = 1) throws -> (combined: [Float], expected: [Float]) {
        let backbone = ExportFixtures.tinyBackbone()
        let combined = try CombinedModelBuilder(backbone: backbone, bottleneckTensor: tensor, head: head)
            .makeModel(metadata: try ExportFixtures.metadata(for: head, tensor: tensor))
        let features = try run(backbone, output: tensor)
        return (try run(combined, output: CombinedModelBuilder.scoresName, threads: threads), head.scores(for: features))
    }

    // Tolerance 1e-5 in probability: the features are the same engine's on the same pixels, so only the head's
    // float32 arithmetic differs (standardisation folded into the Gemm, another summation order over 5 or 4
    // inputs): a few ulps of logits of order 1. A wrong layout (transB) or a missing standardisation is off by 1e-2+.

    @Test("softmax head on a 4-D bottleneck: Flatten, one Gemm with the standardisation folded in, Softmax")
    func softmaxHeadOnPooledTensor() throws {
        let head = ExportFixtures.head(dimension: 5, classes: 3)
        let (combined, expected) = try Self.scores(head: head, tensor: "pooled")
        #expect(combined.count == 4 * 3)
        let difference = zip(combined, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-5, "max |combined - head| = \(difference)")
        // The scores are not trivially uniform: the check above compares something.
        #expect((combined.max() ?? 0) - (combined.min() ?? 0) > 0.05)
    }

    @Test("hidden head on a 2-D bottleneck, with two threads")
    func hiddenHeadOnFeatures() throws {
        let head = ExportFixtures.head(dimension: 5, classes: 3, hiddenUnits: 4)
        let (combined, expected) = try Self.scores(head: head, tensor: "features", threads: 2)
        let difference = zip(combined, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-5, "max |combined - head| = \(difference)")
        for row in 0..<4 {
            #expect(abs(combined[(row * 3)..<(row * 3 + 3)].reduce(0, +) - 1) < 1e-5, "row \(row) is not a softmax")
        }
    }

    @Test("the graph: the backbone's classifier pruned, the head appended, `scores` the only output, metadata written")
    func graphStructureAndMetadata() throws {
        let head = ExportFixtures.head(dimension: 5, classes: 3, hiddenUnits: 4)
        let model = try CombinedModelBuilder(backbone: ExportFixtures.tinyBackbone(), bottleneckTensor: "features",
                                             head: head).makeModel(metadata: try ExportFixtures.metadata(for: head))
        #expect(model.graph.node.map(\.opType) == ["Conv", "Relu", "GlobalAveragePool", "Flatten",
                                                   "Gemm", "Relu", "Gemm", "Softmax"])
        #expect(model.graph.output.map(\.name) == ["scores"])
        #expect(model.graph.output[0].tensorDims == [.symbolic("N"), .fixed(3)])
        #expect(model.graph.input.map(\.name) == ["input"])
        let initializers = Set(model.graph.initializer.map(\.name))
        #expect(!initializers.contains("fc_w") && !initializers.contains("fc_b"))
        // Gemm B is [inputCount, outputCount] as the head stores it, with transB = 0.
        let weight = try #require(model.graph.initializer.first { $0.name == "head_dense1_weight" })
        #expect(weight.shape == [4, 3] && weight.float32Values == head.layers[1].weights)
        let gemm = try #require(model.graph.node.first { $0.opType == "Gemm" })
        #expect(gemm.attribute(named: "transB")?.value == .int(0))
        #expect(model.graph.node.last?.attribute(named: "axis")?.value == .int(1))

        let read = try CombinedModelMetadata(reading: Dictionary(uniqueKeysWithValues: model.metadataProps.map {
            ($0.key, $0.value)
        }))
        #expect(read == (try ExportFixtures.metadata(for: head)))
        #expect(model.metadataValue(forKey: "bottleneck.format") == "combined/1")
        #expect(model.metadataValue(forKey: "bottleneck.labels") == #"["class 0","class 1","class 2"]"#)
        #expect(model.opsetImport.map(\.version) == [13])
    }

    @Test("the Flatten added for a 4-D bottleneck has one name for its node and its output")
    func flattenNaming() throws {
        let head = ExportFixtures.head(dimension: 5, classes: 3)
        let model = try CombinedModelBuilder(backbone: ExportFixtures.tinyBackbone(), bottleneckTensor: "pooled",
                                             head: head).makeModel(metadata: try ExportFixtures.metadata(for: head,
                                                                                                          tensor: "pooled"))
        let flatten = try #require(model.graph.node.last { $0.opType == "Flatten" })
        #expect(flatten.name == "head_flatten" && flatten.output == ["head_flatten"])
        #expect(model.graph.node.first { $0.opType == "Gemm" }?.input.first == "head_flatten")
    }

    @Test("head tensor names never collide with the backbone's")
    func namesAreUnique() throws {
        let head = ExportFixtures.head(dimension: 5, classes: 3)
        let backbone = ExportFixtures.tinyBackbone(extraInitializer: "head_dense0_weight")
        let model = try CombinedModelBuilder(backbone: backbone, bottleneckTensor: "features", head: head)
            .makeModel(metadata: try ExportFixtures.metadata(for: head))
        let gemm = try #require(model.graph.node.first { $0.opType == "Gemm" })
        #expect(gemm.input[1] == "head_dense0_weight_1")
        let combined = try Self.run(model, output: "scores")
        let expected = head.scores(for: try Self.run(backbone, output: "features"))
        #expect(zip(combined, expected).map { abs($0 - $1) }.max() ?? .infinity < 1e-5)
    }

    @Test("an unknown bottleneck tensor, a size mismatch and an existing `scores` are refused with the reason")
    func incompatibleBackbones() throws {
        let head = ExportFixtures.head(dimension: 5, classes: 3)
        func failure(_ backbone: Onnx_ModelProto, tensor: String, head: Head) -> ExportError? {
            do {
                _ = try CombinedModelBuilder(backbone: backbone, bottleneckTensor: tensor, head: head)
                    .makeModel(metadata: try ExportFixtures.metadata(for: head, tensor: tensor))
                return nil
            } catch {
                return error as? ExportError
            }
        }
        let unknown = failure(ExportFixtures.tinyBackbone(), tensor: "nope", head: head)
        #expect(unknown?.code == .incompatibleBackbone && unknown?.message.contains("no tensor named 'nope'") == true)

        let wide = ExportFixtures.head(dimension: 6, classes: 3)
        let mismatch = failure(ExportFixtures.tinyBackbone(), tensor: "features", head: wide)
        #expect(mismatch?.code == .incompatibleBackbone
            && mismatch?.message.contains("5 values per image but the head expects 6") == true)

        var renamed = ExportFixtures.tinyBackbone()
        for index in renamed.graph.node.indices where renamed.graph.node[index].opType == "Relu" {
            renamed.graph.node[index].output = ["scores"]
        }
        for index in renamed.graph.node.indices where renamed.graph.node[index].opType == "GlobalAveragePool" {
            renamed.graph.node[index].input = ["scores"]
        }
        let clash = failure(renamed, tensor: "features", head: head)
        #expect(clash?.code == .incompatibleBackbone && clash?.message.contains("already computes") == true)
    }

    @Test("a plain backbone is not a combined model; damaged JSON metadata is refused")
    func metadataReading() throws {
        let backbone = ExportFixtures.tinyBackbone()
        let plain = Dictionary(uniqueKeysWithValues: backbone.metadataProps.map { ($0.key, $0.value) })
        #expect(throws: ExportError.self) { try CombinedModelMetadata(reading: plain) }
        do {
            _ = try CombinedModelMetadata(reading: plain)
        } catch {
            #expect(error.code == .notACombinedModel && error.message.contains("bottleneck.format"))
        }
        #expect(throws: ExportError(.invalidMetadata, #"bottleneck.training must be a JSON object, got: [1]"#)) {
            try CombinedModelMetadata(labels: ["a"], preprocessing: .efficientNetLite0, backboneSHA256: "",
                                      bottleneckTensor: "f", trainingJSON: "[1]", testMetricsJSON: "{}",
                                      toolVersion: "t")
        }
    }

    @Test("write: atomic into new folders; an unwritable place is a fileAccess error naming it")
    func writing() throws {
        let folder = try ExportFixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let head = ExportFixtures.head(dimension: 5, classes: 3)
        let model = try CombinedModelBuilder(backbone: ExportFixtures.tinyBackbone(), bottleneckTensor: "features",
                                             head: head).makeModel(metadata: try ExportFixtures.metadata(for: head))
        let url = folder.appendingPathComponent("nested/combined.onnx")
        let bytes = try CombinedModelBuilder.write(model, to: url)
        #expect(try Data(contentsOf: url) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["combined.onnx"])
        let blocked = folder.appendingPathComponent("file")
        try Data().write(to: blocked)
        do {
            try CombinedModelBuilder.write(model, to: blocked.appendingPathComponent("combined.onnx"))
            Issue.record("writing below a regular file should fail")
        } catch {
            #expect(error.code == .fileAccess && error.message.contains(blocked.path))
        }
    }
}
