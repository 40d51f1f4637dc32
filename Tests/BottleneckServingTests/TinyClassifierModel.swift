import BottleneckImages
import Foundation
import ONNXSchema

/// A combined model small enough to check by hand, in the layout `bottleneck export` writes: input `image`
/// `[N, 3, 8, 8]` (NCHW) -> GlobalAveragePool -> Flatten -> Gemm -> Softmax, output `scores` `[N, 4]`, with
/// `bottleneck.labels` and `bottleneck.preprocessing` metadata.
///
/// Preprocessing: shorter side resized to 8, center crop 8, each value divided by 255; so the pooled features are
/// the mean red, green and blue of the prepared image in 0...1, and each class's logit is
/// `weights[class] . means + bias[class]`.
enum TinyClassifierModel {
    static let labels = ["red", "green", "blue", "gray"]
    /// `[classes, 3]`, row-major: one row of channel weights per class.
    static let weights: [Float] = [
        4, -2, -2,
        -2, 4, -2,
        -2, -2, 4,
        1, 1, 1,
    ]
    static let bias: [Float] = [0, 0, 0, -1]
    static let inputSize = 8

    /// Writes the model to `url`; `metadata` replaces or adds entries, and a nil value removes one; `output`
    /// renames the softmax output.
    static func write(to url: URL, metadata overrides: [String: String?] = [:], output: String = "scores") throws {
        var graph = ONNXGraphBuilder(name: "tiny-combined")
        graph.addInput(.tensor(name: "image", elementType: .float,
                               dims: ["N", 3, .fixed(inputSize), .fixed(inputSize)]))
        let w = graph.addInitializer(.float32(name: "head.weight", shape: [labels.count, 3], values: weights))
        let b = graph.addInitializer(.float32(name: "head.bias", shape: [labels.count], values: bias))
        graph.addNode(Onnx_NodeProto(opType: "GlobalAveragePool", inputs: ["image"], outputs: ["pooled"]))
        graph.addNode(Onnx_NodeProto(opType: "Flatten", inputs: ["pooled"], outputs: ["features"],
                                     attributes: ["axis": .int(1)]))
        graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: ["features", w, b], outputs: ["logits"],
                                     attributes: ["transB": .int(1)]))
        graph.addNode(Onnx_NodeProto(opType: "Softmax", inputs: ["logits"], outputs: [output],
                                     attributes: ["axis": .int(1)]))
        graph.addOutput(.tensor(name: output, elementType: .float, dims: ["N", .fixed(labels.count)]))

        let preprocessing = try PreprocessingSpec(
            inputSize: inputSize, mean: [0, 0, 0], resizeShorterSide: inputSize, std: [255, 255, 255])
        var entries: [(String, String)] = [
            ("bottleneck.labels", String(decoding: try JSONEncoder().encode(labels), as: UTF8.self)),
            (PreprocessingSpec.metadataKey, preprocessing.jsonString()),
            ("bottleneck.format", "combined/1"),
        ]
        for (key, value) in overrides {
            entries.removeAll { $0.0 == key }
            if let value { entries.append((key, value)) }
        }
        var model = graph.makeModel(opsetVersion: 13)
        for (key, value) in entries { model.setMetadataValue(value, forKey: key) }
        try model.write(to: url)
    }

    /// The softmax scores computed by hand, in Double, for an image of one solid colour: resizing keeps every
    /// value of a solid image exactly (Pillow's fixed-point weights sum to 1 within 2^-20), so the pooled features
    /// are the colour divided by 255.
    static func expectedScores(for colour: [UInt8]) -> [Double] {
        let means = colour.map { Double($0) / 255 }
        let logits = labels.indices.map { row in
            (0..<3).reduce(Double(bias[row])) { $0 + Double(weights[row * 3 + $1]) * means[$1] }
        }
        let maximum = logits.max()!
        let exponentials = logits.map { Foundation.exp($0 - maximum) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { $0 / sum }
    }

    /// A 64x64 image of one colour: the model's preprocessing scales it down by 8.
    static func image(_ colour: [UInt8]) -> RGBImage {
        RGBImage(width: 64, height: 64, pixels: Array((0..<(64 * 64)).map { _ in colour }.joined()))
    }
}
