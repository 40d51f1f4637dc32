import BottleneckEngine
import BottleneckTraining
import Foundation
import ONNXSchema

/// Joins a backbone and a trained head into one ONNX model whose single output, `scores`, holds the class
/// probabilities `[N, classes]` of a batch of images.
///
/// The backbone keeps only the nodes and initializers its bottleneck tensor needs (its own classifier goes). Then
/// come, in the backbone's opset:
///
///     bottleneck ─▶ Flatten(axis 1)      only when the tensor is not declared 2-D, e.g. [N, C, 1, 1]
///                ─▶ Gemm(W1, b1)         standardisation folded in: W1 = W / std (per input row),
///                                        b1 = b - Σ_d (mean_d / std_d) W[d]   (`Head.foldedStandardisation()`)
///                ─▶ Relu ─▶ Gemm(W2, b2) for a hidden head only
///                ─▶ Softmax(axis 1) ─▶ scores
///
/// Weight layout: the head stores each dense layer row-major as `[inputCount, outputCount]` (`y = x W + b`), which
/// is ONNX Gemm's `B` with `transB = 0` as it stands, so the weights are written without transposing (the zoo
/// backbone's own classifier is PyTorch's `[out, in]` with `transB = 1`). The bias is a 1-D `C` of `outputCount`
/// values, broadcast over the rows (opset 7 and later).
///
/// The head's new tensors are named `head_*`, with a numeric suffix if the backbone already uses a name.
public struct CombinedModelBuilder: Sendable {
    /// The name of the combined model's only output.
    public static let scoresName = CombinedModelContract.scoresOutput

    public let backbone: Onnx_ModelProto
    public let bottleneckTensor: String
    public let head: Head

    /// - Parameters:
    ///   - backbone: the backbone model as read from its file.
    ///   - bottleneckTensor: the tensor the head was trained on (its features).
    ///   - head: the trained head; its standardisation, if any, is folded into the first Gemm.
    public init(backbone: Onnx_ModelProto, bottleneckTensor: String, head: Head) {
        self.backbone = backbone
        self.bottleneckTensor = bottleneckTensor
        self.head = head
    }

    /// Builds the combined model.
    /// - Parameter metadata: written as the model's `metadata_props` (in place of the backbone's).
    /// - Throws: `ExportError(.incompatibleBackbone)` when the backbone has not exactly one data input, has no tensor
    ///   called `bottleneckTensor`, declares it with a size other than the head's input, already computes a tensor
    ///   named `scores` on the way to it, or uses a default opset below 7.
    public func makeModel(metadata: CombinedModelMetadata) throws(ExportError) -> Onnx_ModelProto {
        precondition(metadata.labels == head.classNames, "the metadata labels must be the head's class names")
        let source = backbone.graph
        let initializerNames = Set(source.initializer.map(\.name))
        let dataInputs = source.input.filter { !initializerNames.contains($0.name) }
        guard dataInputs.count == 1, let input = dataInputs.first else {
            throw ExportError(.incompatibleBackbone, "the backbone has \(dataInputs.count) data inputs"
                + " (\(dataInputs.map(\.name).joined(separator: ", "))); a combined model needs exactly one image input.")
        }
        let opset = backbone.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 0
        guard opset >= 7 else {
            throw ExportError(.incompatibleBackbone, "the backbone uses ONNX opset \(opset); the head's Gemm needs 7 or"
                + " later. Convert the backbone to a newer opset (onnx.version_converter) and train on it.")
        }
        let producers = Set(source.node.flatMap(\.output))
        guard producers.contains(bottleneckTensor) || input.name == bottleneckTensor else {
            throw ExportError(.incompatibleBackbone, "the backbone has no tensor named '\(bottleneckTensor)' (the run's"
                + " bottleneck tensor); export with the backbone the head was trained on.")
        }

        // Keep what the bottleneck needs, in the original (topological) order.
        var needed: Set<String> = [bottleneckTensor]
        var kept: [Onnx_NodeProto] = []
        for node in source.node.reversed() where node.output.contains(where: needed.contains) {
            kept.append(node)
            needed.formUnion(node.input.filter { !$0.isEmpty })
        }
        kept.reverse()
        if needed.contains(Self.scoresName) || kept.contains(where: { $0.output.contains(Self.scoresName) }) {
            throw ExportError(.incompatibleBackbone, "the backbone already computes a tensor named '\(Self.scoresName)'"
                + " before its bottleneck; rename it in the backbone, since the combined model's output has that name.")
        }

        let declared = (source.output + source.valueInfo + [input]).first { $0.name == bottleneckTensor }?.tensorDims
        if let declared, declared.count >= 2 {
            let sizes = declared.dropFirst().map { dimension -> Int? in
                if case .fixed(let size) = dimension, size > 0 { return size }
                return nil
            }
            if !sizes.contains(nil), sizes.reduce(1, { $0 * $1! }) != head.dimension {
                throw ExportError(.incompatibleBackbone, "the backbone's '\(bottleneckTensor)' has"
                    + " \(sizes.reduce(1, { $0 * $1! })) values per image but the head expects \(head.dimension);"
                    + " export with the backbone and tensor the head was trained on.")
            }
        }

        var taken = Set(source.node.flatMap { $0.input + $0.output + [$0.name] })
            .union(initializerNames).union(source.input.map(\.name)).union(source.output.map(\.name))
        taken.insert(Self.scoresName)
        func fresh(_ base: String) -> String {
            var name = base
            var suffix = 1
            while taken.contains(name) {
                name = "\(base)_\(suffix)"
                suffix += 1
            }
            taken.insert(name)
            return name
        }

        var graph = ONNXGraphBuilder(name: source.name.isEmpty ? "combined" : source.name + "_with_head")
        graph.graph.node = kept
        graph.graph.initializer = source.initializer.filter { needed.contains($0.name) }
        graph.graph.valueInfo = source.valueInfo.filter { needed.contains($0.name) }
        graph.addInput(input)
        // Models from IR version 3 and earlier list their initializers as graph inputs too.
        let listsInitializers = source.input.count > dataInputs.count
        if listsInitializers {
            graph.graph.input += source.input.filter { initializerNames.contains($0.name) && needed.contains($0.name) }
        }

        var features = bottleneckTensor
        if declared?.count != 2 {
            let flatten = fresh("head_flatten")
            features = graph.addNode(Onnx_NodeProto(opType: "Flatten", inputs: [features], outputs: [flatten],
                                                    name: flatten, attributes: ["axis": .int(1)]))
        }
        let layers = head.foldedStandardisation().layers
        for (index, layer) in layers.enumerated() {
            // [inputCount, outputCount] row-major: Gemm's B with transB = 0, as stored.
            let weights = graph.addInitializer(.float32(name: fresh("head_dense\(index)_weight"),
                                                        shape: [layer.inputCount, layer.outputCount],
                                                        values: layer.weights))
            let bias = graph.addInitializer(.float32(name: fresh("head_dense\(index)_bias"),
                                                     shape: [layer.outputCount], values: layer.bias))
            if listsInitializers {
                graph.addInput(.tensor(name: weights, elementType: .float, dims: [.fixed(layer.inputCount),
                                                                                  .fixed(layer.outputCount)]))
                graph.addInput(.tensor(name: bias, elementType: .float, dims: [.fixed(layer.outputCount)]))
            }
            let name = fresh(index == layers.count - 1 ? "head_logits" : "head_dense\(index)")
            features = graph.addNode(Onnx_NodeProto(
                opType: "Gemm", inputs: [features, weights, bias], outputs: [name], name: name,
                attributes: ["alpha": .float(1), "beta": .float(1), "transA": .int(0), "transB": .int(0)]))
            if index < layers.count - 1 {
                let relu = fresh("head_relu\(index)")
                features = graph.addNode(Onnx_NodeProto(opType: "Relu", inputs: [features], outputs: [relu], name: relu))
            }
        }
        graph.addNode(Onnx_NodeProto(opType: "Softmax", inputs: [features], outputs: [Self.scoresName],
                                     name: fresh("head_softmax"), attributes: ["axis": .int(1)]))
        let batch = input.tensorDims?.first ?? .symbolic("N")
        graph.addOutput(.tensor(name: Self.scoresName, elementType: .float, dims: [batch, .fixed(head.classCount)]))

        var model = backbone
        model.graph = graph.graph
        model.producerName = "bottleneck"
        model.producerVersion = metadata.toolVersion
        model.metadataProps = metadata.entries.map { Onnx_StringStringEntryProto(key: $0.key, value: $0.value) }
        return model
    }

    /// Writes a model atomically (temporary file in the same folder, then rename), creating missing folders.
    /// - Returns: the bytes written.
    /// - Throws: `ExportError(.fileAccess)` saying where and why.
    @discardableResult
    public static func write(_ model: Onnx_ModelProto, to url: URL) throws(ExportError) -> Data {
        do {
            return try model.write(to: url)
        } catch {
            throw ExportError(.fileAccess, "could not write \(url.path): \(error.localizedDescription); check that the"
                + " folder is writable and has space, or choose another --output.")
        }
    }
}
