/// Planning [1x1 expansion ->] depthwise -> 1x1 projection chains as one fused step (`InvertedBottleneck`).
extension ExecutionPlanner {
    /// Fuse only when the depthwise input of one image is larger than this: smaller tensors stay in L2 between
    /// layers anyway, and at batch 1 the fused step's per-thread halo would cost more than it saves.
    static let fusionMinimumBytes = 600 << 10

    /// Plans the nodes from `index` as one fused step if they form an inverted-residual chain worth fusing:
    /// adjacent nodes, an optional expansion without residual (a pointwise convolution, or a dense one such as a
    /// stem), then a depthwise convolution without residual, then a pointwise one, each intermediate tensor read
    /// only by the next node. Returns how many nodes it planned, or nil to plan them one by one.
    mutating func planInvertedBottleneck(at index: Int) throws -> Int? {
        let nodes = graph.nodes
        guard case .preparedConvolution(let first) = nodes[index].operation else { return nil }
        let expands = (first.kind == .pointwise || first.kind == .general && first.groups == 1) && !first.addsResidual
        let expandNode: Node? = expands ? nodes[index] : nil
        let depthwiseIndex = expandNode == nil ? index : index + 1
        guard depthwiseIndex + 1 < nodes.count,
            case .preparedConvolution(let depthwise) = nodes[depthwiseIndex].operation,
            depthwise.kind == .depthwise, !depthwise.addsResidual,
            case .preparedConvolution(let project) = nodes[depthwiseIndex + 1].operation, project.kind == .pointwise
        else { return nil }
        let (depthwiseNode, projectNode) = (nodes[depthwiseIndex], nodes[depthwiseIndex + 1])
        func feedsOnly(_ producer: Node, _ consumer: Node) -> Bool {
            consumer.inputs[0] == producer.outputs[0] && readers[producer.outputs[0]] == 1
        }
        if let expandNode, !feedsOnly(expandNode, depthwiseNode) { return nil }
        guard feedsOnly(depthwiseNode, projectNode) else { return nil }

        let blockNode = expandNode ?? depthwiseNode
        // Everything is checked before the first step is appended, so that a chain not fused plans unchanged.
        let blockInput = try runtime(blockNode.inputs[0], of: blockNode)
        guard blockInput.shape.count == 4 else { return nil }
        var expandedShape = blockInput.shape
        var expansionGeometry: ConvolutionGeometry?
        if let expandNode, case .preparedConvolution(let expand) = expandNode.operation {
            guard expand.inputChannels == blockInput.shape[1] else { return nil }
            expandedShape[1] = expand.outputChannels
            if expand.kind == .general {
                let convolution = try Self.geometry(of: expand, node: expandNode, inputShape: blockInput.shape)
                expandedShape[2...3] = [convolution.outputHeight, convolution.outputWidth]
                expansionGeometry = convolution
            }
        }
        let geometry = try Self.geometry(of: depthwise, node: depthwiseNode, inputShape: expandedShape)
        guard project.inputChannels == geometry.outputChannels,
            geometry.inputHeight * geometry.inputWidth * geometry.inputChannels * 4 > Self.fusionMinimumBytes
        else { return nil }
        let outputShape = [geometry.batch, project.outputChannels, geometry.outputHeight, geometry.outputWidth]
        var residual: PlannedTensor?
        if project.addsResidual {
            let candidate = try runtime(projectNode.inputs[1], of: projectNode)
            guard candidate.shape == outputShape else { return nil }  // a broadcasting add: plan unfused
            residual = try nhwc(candidate, for: projectNode)
        }
        let input = try nhwc(blockInput, for: blockNode)

        let expand = expandNode.flatMap { node -> PreparedConvolution? in
            if case .preparedConvolution(let convolution) = node.operation { return convolution }
            return nil
        }
        currentOperation = "InvertedBottleneck\(geometry.kernelHeight)x\(geometry.kernelWidth)"
            + (geometry.strideHeight > 1 ? "s\(geometry.strideHeight)" : "")
            + (expansionGeometry == nil && expand?.quantized != nil ? "Int8" : "")
        // At int8 a 1x1 expansion runs in int8 after a step quantizing the block input; the projection stays fp32
        // (see InvertedBottleneck).
        let int8Expand = expansionGeometry == nil ? expand?.quantized : nil
        let output = newTensor(outputShape, .nhwc)
        read(input)
        if let residual { read(residual) }
        let quantizedInput = int8Expand.map { appendQuantize(blockNode, input, stride: $0.inputStride) }
        if let quantizedInput { read(quantizedInput) }
        scratchCount = max(scratchCount, InvertedBottleneck.scratchCount(
            for: geometry, expands: expand != nil,
            expansionScratch: expansionGeometry.map(IndirectConvolution.scratchCount(for:)) ?? 0))
        let (source, target, residualBuffer) = (input.buffer, output.buffer, residual?.buffer)
        let name = [expandNode, depthwiseNode, projectNode].compactMap { $0?.name }.joined(separator: "+")
        let expansion = expansionGeometry
        append(name, workItems: geometry.outputRows) { arena, rows in
            Self.withBlock(geometry: geometry, expand: expand, expansionGeometry: expansion, depthwise: depthwise,
                           project: project, int8Expand: int8Expand) { block in
                block.forward(input: arena.pointer(source), quantizedInput: quantizedInput?.input(arena),
                              residual: residualBuffer.map { UnsafePointer(arena.pointer($0)) },
                              output: arena.pointer(target), rows: rows, scratch: arena.scratch)
            }
        }
        define(projectNode, output)
        return depthwiseIndex + 2 - index
    }

    /// Calls `body` with the block's kernel, its weight pointers valid for the duration of the call.
    /// `expansionGeometry` is set for a dense (not 1x1) expansion.
    private static func withBlock(
        geometry: ConvolutionGeometry, expand: PreparedConvolution?, expansionGeometry: ConvolutionGeometry?,
        depthwise: PreparedConvolution, project: PreparedConvolution, int8Expand: QuantizedPointwiseConvolution?,
        _ body: (InvertedBottleneck) -> Void
    ) {
        func withStages(_ expansion: InvertedBottleneck.Expansion?) {
            depthwise.withPointers { depthwiseWeights, depthwiseBias in
                project.withPointers { projectWeights, projectBias in
                    body(InvertedBottleneck(
                        geometry: geometry, expansion: expansion, depthwiseWeights: depthwiseWeights,
                        depthwiseBias: depthwiseBias, depthwiseClamp: depthwise.clamp,
                        project: .init(weights: projectWeights, bias: projectBias, clamp: project.clamp,
                                       inputChannels: project.inputChannels, outputChannels: project.outputChannels),
                        int8Expand: int8Expand))
                }
            }
        }
        guard let expand else { return withStages(nil) }
        expand.withPointers { weights, bias in
            if let expansionGeometry {
                withStages(.convolution(.init(geometry: expansionGeometry, weights: weights, bias: bias,
                                              clamp: expand.clamp)))
            } else {
                withStages(.pointwise(.init(weights: weights, bias: bias, clamp: expand.clamp,
                                            inputChannels: expand.inputChannels, outputChannels: expand.outputChannels)))
            }
        }
    }
}
