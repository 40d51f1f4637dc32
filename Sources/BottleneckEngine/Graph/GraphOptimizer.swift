/// Rewrites an imported graph into the form the planner runs: constant Clip bounds resolved, Dropout and
/// Identity removed, BatchNorm folded into the preceding Conv, weights prepacked, and ReLU/Clip and residual
/// Adds fused into the convolution or Gemm that produces their input.
///
/// Every pass keeps graph outputs intact: a tensor the caller asked for is never fused away.
public enum GraphOptimizer {
    public static func optimize(_ graph: Graph) throws -> Graph {
        var graph = graph
        try resolveClipBounds(&graph)
        removeIdentities(&graph)
        try foldBatchNormalization(&graph)
        try prepareWeights(&graph)
        fuseClamps(&graph)
        fuseResidualAdds(&graph)
        fuseClamps(&graph)
        graph.constants = graph.constants.filter { name, _ in
            graph.nodes.contains { $0.inputs.contains(name) } || graph.outputs.contains(name)
        }
        return graph
    }

    /// `graph` with every pointwise convolution carrying its int8 form as well (see `Precision.int8`); the
    /// planner runs them in int8, except the projections of the inverted-residual blocks it fuses.
    static func quantizingPointwiseConvolutions(_ graph: Graph) -> Graph {
        var graph = graph
        for index in graph.nodes.indices {
            guard case .preparedConvolution(let convolution) = graph.nodes[index].operation,
                convolution.kind == .pointwise else { continue }
            let node = graph.nodes[index]
            graph.nodes[index] = Node(name: node.name, operation: .preparedConvolution(convolution.quantizing()),
                                      inputs: node.inputs, outputs: node.outputs)
        }
        return graph
    }

    /// Clip with constant (or omitted) bound inputs becomes a plain clamp.
    static func resolveClipBounds(_ graph: inout Graph) throws {
        for index in graph.nodes.indices {
            guard case .clipWithBoundInputs = graph.nodes[index].operation else { continue }
            let node = graph.nodes[index]
            func bound(_ position: Int, default value: Float) throws -> Float {
                guard position < node.inputs.count, !node.inputs[position].isEmpty else { return value }
                guard let constant = graph.constants[node.inputs[position]], constant.count == 1 else {
                    throw EngineError(.unsupported, "\(node.label) takes its bound from the computed tensor"
                        + " '\(node.inputs[position])'; only constant Clip bounds are supported.")
                }
                return constant.floats[0]
            }
            let clamp = Clamp(lower: try bound(1, default: -.infinity), upper: try bound(2, default: .infinity))
            graph.nodes[index] = Node(name: node.name, operation: .clamp(clamp), inputs: [node.inputs[0]],
                                      outputs: node.outputs)
        }
    }

    /// Drops Identity and Dropout nodes whose output is not a graph output, rewiring their readers.
    static func removeIdentities(_ graph: inout Graph) {
        var replacement: [String: String] = [:]
        graph.nodes.removeAll { node in
            guard case .identity = node.operation, let output = node.outputs.first,
                !graph.outputs.contains(output) else { return false }
            replacement[output] = replacement[node.inputs[0]] ?? node.inputs[0]
            return true
        }
        for index in graph.nodes.indices {
            graph.nodes[index].inputs = graph.nodes[index].inputs.map { replacement[$0] ?? $0 }
        }
    }

    /// Conv followed by BatchNormalization (its only reader) becomes one Conv with scaled weights and a bias:
    /// `w' = w * gamma / sqrt(var + eps)`, `b' = (b - mean) * gamma / sqrt(var + eps) + beta`.
    static func foldBatchNormalization(_ graph: inout Graph) throws {
        let readers = graph.consumerCounts()
        var index = 0
        while index < graph.nodes.count {
            let node = graph.nodes[index]
            guard case .batchNormalization(let epsilon) = node.operation,
                let producerIndex = graph.producerIndex(of: node.inputs[0]),
                case .convolution = graph.nodes[producerIndex].operation,
                readers[node.inputs[0]] == 1, !graph.outputs.contains(node.inputs[0]),
                let parameters = batchNormParameters(node, graph: graph),
                let weights = graph.constants[graph.nodes[producerIndex].inputs[1]],
                weights.shape.count == 4, weights.shape[0] == parameters.scale.count
            else {
                index += 1
                continue
            }
            let conv = graph.nodes[producerIndex]
            let outputChannels = weights.shape[0]
            let perChannel = weights.count / outputChannels
            let oldBias = conv.inputs.count > 2 && !conv.inputs[2].isEmpty
                ? graph.constants[conv.inputs[2]]?.floats : nil
            var newWeights = weights.floats
            var newBias = [Float](repeating: 0, count: outputChannels)
            for channel in 0..<outputChannels {
                let factor = parameters.scale[channel] / (parameters.variance[channel] + epsilon).squareRoot()
                for offset in 0..<perChannel { newWeights[channel * perChannel + offset] *= factor }
                newBias[channel] = ((oldBias?[channel] ?? 0) - parameters.mean[channel]) * factor
                    + parameters.offset[channel]
            }
            let weightName = "\(conv.name)::folded_weights"
            let biasName = "\(conv.name)::folded_bias"
            graph.constants[weightName] = ConstantTensor(shape: weights.shape, floats: newWeights)
            graph.constants[biasName] = ConstantTensor(shape: [outputChannels], floats: newBias)
            graph.nodes[producerIndex].inputs = [conv.inputs[0], weightName, biasName]
            graph.nodes[producerIndex].outputs = node.outputs
            graph.nodes.remove(at: index)
        }
    }

    private struct BatchNormParameters {
        var scale, offset, mean, variance: [Float]
    }

    private static func batchNormParameters(_ node: Node, graph: Graph) -> BatchNormParameters? {
        guard node.inputs.count >= 5 else { return nil }
        let tensors = node.inputs[1...4].map { graph.constants[$0] }
        guard tensors.allSatisfy({ $0 != nil }) else { return nil }
        let values = tensors.map { $0!.floats }
        guard Set(values.map(\.count)).count == 1 else { return nil }
        return BatchNormParameters(scale: values[0], offset: values[1], mean: values[2], variance: values[3])
    }

    /// Conv with constant weights and Gemm/MatMul with a constant right-hand side get packed weights.
    static func prepareWeights(_ graph: inout Graph) throws {
        for index in graph.nodes.indices {
            let node = graph.nodes[index]
            switch node.operation {
            case .convolution(let attributes):
                guard node.inputs.count >= 2, let weights = graph.constants[node.inputs[1]] else {
                    throw EngineError(.unsupported, "\(node.label) has computed weights; only constant"
                        + " convolution weights are supported.")
                }
                guard weights.shape.count == 4 else {
                    throw EngineError(.unsupported, "\(node.label) has \(weights.shape.count - 2)-D weights"
                        + " \(weights.shape); only 2-D convolutions are supported.")
                }
                let declared = (attributes.window.kernelHeight, attributes.window.kernelWidth)
                guard declared == (0, 0) || declared == (weights.shape[2], weights.shape[3]) else {
                    throw EngineError(.invalidModel, "\(node.label) declares kernel_shape \(declared) but its"
                        + " weights are \(weights.shape).")
                }
                var bias: [Float]?
                if node.inputs.count > 2, !node.inputs[2].isEmpty {
                    guard let constant = graph.constants[node.inputs[2]], constant.count == weights.shape[0] else {
                        throw EngineError(.unsupported, "\(node.label) has a computed or mis-sized bias.")
                    }
                    bias = constant.floats
                }
                let prepared = PreparedConvolution(window: attributes.window, groups: attributes.groups,
                                                   weights: weights, bias: bias)
                graph.nodes[index] = Node(name: node.name, operation: .preparedConvolution(prepared),
                                          inputs: [node.inputs[0]], outputs: node.outputs)
            case .gemm(let attributes):
                guard let prepared = try prepareGemm(node, attributes: attributes, graph: graph) else { continue }
                graph.nodes[index] = Node(name: node.name, operation: .preparedGemm(prepared),
                                          inputs: [node.inputs[0]], outputs: node.outputs)
            case .matMul:
                guard let weights = graph.constants[node.inputs[1]], weights.shape.count == 2 else { continue }
                let prepared = PreparedGemm(
                    inputFeatures: weights.shape[0], outputFeatures: weights.shape[1],
                    packedWeights: weights.floats, bias: [Float](repeating: 0, count: weights.shape[1]))
                graph.nodes[index] = Node(name: node.name, operation: .preparedGemm(prepared),
                                          inputs: [node.inputs[0]], outputs: node.outputs)
            default:
                continue
            }
        }
    }

    /// Gemm with constant B (and C broadcastable to one row); nil leaves it to the generic path.
    private static func prepareGemm(_ node: Node, attributes: GemmAttributes, graph: Graph) throws
        -> PreparedGemm?
    {
        guard node.inputs.count >= 2, let b = graph.constants[node.inputs[1]], b.shape.count == 2 else {
            return nil
        }
        guard !attributes.transposeA else {
            throw EngineError(.unsupported, "\(node.label) uses transA=1, which is not supported.")
        }
        let (inputs, outputs) = attributes.transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        let values = b.floats
        var packed = [Float](repeating: 0, count: values.count)
        for input in 0..<inputs {
            for output in 0..<outputs {
                let value = attributes.transposeB ? values[output * inputs + input] : values[input * outputs + output]
                packed[input * outputs + output] = attributes.alpha * value
            }
        }
        var bias = [Float](repeating: 0, count: outputs)
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let c = graph.constants[node.inputs[2]], c.shape.reduce(1, *) == outputs || c.count == 1,
                c.shape.dropLast().allSatisfy({ $0 == 1 }) else {
                throw EngineError(.unsupported, "\(node.label) has a C input that is computed or not one row;"
                    + " only a constant bias row is supported.")
            }
            let cValues = c.floats
            bias = (0..<outputs).map { attributes.beta * cValues[c.count == 1 ? 0 : $0] }
        }
        return PreparedGemm(inputFeatures: inputs, outputFeatures: outputs, packedWeights: packed, bias: bias)
    }

    /// A clamp whose input comes from a prepared Conv or Gemm that nothing else reads is folded into it.
    static func fuseClamps(_ graph: inout Graph) {
        var index = 0
        while index < graph.nodes.count {
            let node = graph.nodes[index]
            guard case .clamp(let clamp) = node.operation, let producerIndex = fusableProducer(of: node.inputs[0], graph)
            else {
                index += 1
                continue
            }
            switch graph.nodes[producerIndex].operation {
            case .preparedConvolution(let convolution):
                graph.nodes[producerIndex].operation = .preparedConvolution(convolution.fusing(clamp))
            case .preparedGemm(let gemm):
                graph.nodes[producerIndex].operation = .preparedGemm(gemm.fusing(clamp))
            default:
                index += 1
                continue
            }
            graph.nodes[producerIndex].outputs = node.outputs
            graph.nodes.remove(at: index)
        }
    }

    /// `Add(conv(x), r)` becomes a convolution that adds `r` in its epilogue, when the convolution has no
    /// activation yet and `r` is computed before it. (The planner checks the shapes match and falls back to a
    /// separate add if they do not.)
    static func fuseResidualAdds(_ graph: inout Graph) {
        var index = 0
        while index < graph.nodes.count {
            let node = graph.nodes[index]
            guard case .binary(.add) = node.operation, node.inputs.count == 2 else {
                index += 1
                continue
            }
            var fused = false
            for (convolutionSide, residualSide) in [(0, 1), (1, 0)] {
                let residual = node.inputs[residualSide]
                guard graph.constants[residual] == nil,
                    let producerIndex = fusableProducer(of: node.inputs[convolutionSide], graph),
                    case .preparedConvolution(let convolution) = graph.nodes[producerIndex].operation,
                    convolution.clamp.isNone, !convolution.addsResidual,
                    residual == graph.input.name || (graph.producerIndex(of: residual) ?? .max) < producerIndex
                else { continue }
                graph.nodes[producerIndex].operation = .preparedConvolution(convolution.fusingResidual())
                graph.nodes[producerIndex].inputs.append(residual)
                graph.nodes[producerIndex].outputs = node.outputs
                graph.nodes.remove(at: index)
                fused = true
                break
            }
            if !fused { index += 1 }
        }
    }

    /// The producer of `tensor` if `tensor` is read only once and is not a graph output.
    private static func fusableProducer(of tensor: String, _ graph: Graph) -> Int? {
        guard graph.consumerCounts()[tensor] == 1, !graph.outputs.contains(tensor) else { return nil }
        return graph.producerIndex(of: tensor)
    }
}
