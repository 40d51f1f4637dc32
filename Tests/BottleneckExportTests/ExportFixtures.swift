import BottleneckExport
import BottleneckImages
import BottleneckTraining
import Foundation
import ONNXSchema

/// Synthetic backbones and heads, and the paths of the real backbone, golden inputs and the project's Python.
/// Tests that need a real one are disabled (with the reason shown) when it is missing, except under CI=true
/// (`make test` installs every prerequisite), where they run and fail loudly.
enum ExportFixtures {
    /// The repository root: this file is two folders below it (symlinks resolved, for scratch packages).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let lite0 = repositoryRoot.appendingPathComponent("models/efficientnet-lite0.onnx")
    static let golden = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/golden")
    static let goldenNames = ["camera", "chelsea", "coffee", "horse", "rocket"]
    static let python = repositoryRoot.appendingPathComponent(".venv/bin/python")
    static let checkScript = repositoryRoot.appendingPathComponent("scripts/check-export.py")

    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static var hasLite0AndPython: Bool {
        (FileManager.default.fileExists(atPath: lite0.path)
            && FileManager.default.fileExists(atPath: golden.appendingPathComponent("chelsea.input.f32").path)
            && FileManager.default.isExecutableFile(atPath: python.path)) || isCI
    }
    static let noLite0AndPython = "needs models/efficientnet-lite0.onnx (make models), ../shared/reference/golden and"
        + " .venv/bin/python with onnx and onnxruntime (make venv)"

    /// Deterministic values in [-1, 1) (a 64-bit LCG), so every test sees the same weights.
    struct Values {
        private var state: UInt64
        init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        mutating func array(_ count: Int, scale: Float = 1, offset: Float = 0) -> [Float] {
            (0..<count).map { _ in next() * scale + offset }
        }
    }

    /// A tiny CNN shaped like the zoo's backbones: input [N, 3, 6, 6] -> Conv 3x3 (5 channels, pad 1) -> Relu ->
    /// GlobalAveragePool `pooled` [N, 5, 1, 1] -> Flatten `features` [N, 5] -> Gemm (transB 1) `logits` [N, 7].
    /// `features` and `logits` are graph outputs; `pooled` is declared in value_info.
    static func tinyBackbone(extraInitializer: String? = nil) -> Onnx_ModelProto {
        var values = Values(seed: 1)
        var graph = ONNXGraphBuilder(name: "tiny")
        graph.addInput(.tensor(name: "input", elementType: .float, dims: ["N", 3, 6, 6]))
        let convWeight = graph.addInitializer(.float32(name: "conv_w", shape: [5, 3, 3, 3], values: values.array(135)))
        let convBias = graph.addInitializer(.float32(name: "conv_b", shape: [5], values: values.array(5, scale: 0.1)))
        graph.addNode(Onnx_NodeProto(opType: "Conv", inputs: ["input", convWeight, convBias], outputs: ["conv"],
                                     name: "conv", attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]))
        graph.addNode(Onnx_NodeProto(opType: "Relu", inputs: ["conv"], outputs: ["relu"], name: "relu"))
        graph.addNode(Onnx_NodeProto(opType: "GlobalAveragePool", inputs: ["relu"], outputs: ["pooled"], name: "pool"))
        graph.addNode(Onnx_NodeProto(opType: "Flatten", inputs: ["pooled"], outputs: ["features"], name: "flatten",
                                     attributes: ["axis": .int(1)]))
        let fcWeight = graph.addInitializer(.float32(name: "fc_w", shape: [7, 5], values: values.array(35)))
        let fcBias = graph.addInitializer(.float32(name: "fc_b", shape: [7], values: values.array(7)))
        graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: ["features", fcWeight, fcBias], outputs: ["logits"],
                                     name: "fc", attributes: ["transB": .int(1)]))
        if let extraInitializer {
            // Unused by the graph: only there to take a name the head would otherwise use.
            graph.addInitializer(.float32(name: extraInitializer, shape: [1], values: [0]))
        }
        graph.graph.valueInfo = [.tensor(name: "pooled", elementType: .float, dims: ["N", 5, 1, 1])]
        graph.addOutput(.tensor(name: "features", elementType: .float, dims: ["N", 5]))
        graph.addOutput(.tensor(name: "logits", elementType: .float, dims: ["N", 7]))
        return graph.makeModel(opsetVersion: 13, metadata: [
            "bottleneck.bottleneck_tensor": "features",
            PreprocessingSpec.metadataKey: PreprocessingSpec.efficientNetLite0.jsonString(),
        ])
    }

    /// A head on `dimension` features with standardisation: softmax regression, or with `hiddenUnits` a ReLU layer
    /// first. Weights of size `weightScale`, means around `featureMean`, standard deviations in [0.25, 0.75].
    static func head(dimension: Int, classes: Int, hiddenUnits: Int? = nil, weightScale: Float = 0.5,
                     featureMean: Float = 0.2, seed: UInt64 = 7) -> Head {
        var values = Values(seed: seed)
        let standardisation = Standardisation(mean: values.array(dimension, scale: 0.1, offset: featureMean),
                                              std: values.array(dimension, scale: 0.25, offset: 0.5))
        let widths = [dimension] + (hiddenUnits.map { [$0] } ?? []) + [classes]
        let layers = zip(widths, widths.dropFirst()).map { input, output in
            DenseLayer(inputCount: input, outputCount: output, weights: values.array(input * output, scale: weightScale),
                       bias: values.array(output, scale: 0.1))
        }
        return Head(classNames: (0..<classes).map { "class \($0)" }, standardisation: standardisation, layers: layers)
    }

    static func metadata(for head: Head, tensor: String = "features") throws -> CombinedModelMetadata {
        try CombinedModelMetadata(
            labels: head.classNames, preprocessing: .efficientNetLite0, backboneSHA256: String(repeating: "ab", count: 32),
            bottleneckTensor: tensor, trainingJSON: #"{"split":"80/10/10"}"#, testMetricsJSON: #"{"accuracy":0.5}"#,
            toolVersion: "bottleneck tests")
    }

    static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { bytes in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }

    static func write(_ values: [Float], to url: URL) throws {
        try values.map(\.bitPattern.littleEndian).withUnsafeBufferPointer { Data(buffer: $0) }.write(to: url)
    }

    static func makeTemporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
