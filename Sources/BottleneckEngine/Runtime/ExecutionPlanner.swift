/// Builds an `ExecutionPlan` for one input shape: infers every tensor's shape, folds shape arithmetic,
/// chooses layouts (NHWC for images, row-major elsewhere, converting only where an operator needs it),
/// turns nodes into kernel steps and packs the tensors into one arena, reusing buffers once they are dead.
struct ExecutionPlanner {
    enum Value {
        case runtime(PlannedTensor)
        case constant(ConstantTensor)
    }

    let graph: Graph
    var values: [String: Value] = [:]
    var steps: [Step] = []
    var bufferCounts: [Int] = []
    var bufferFirstUse: [Int] = []
    var bufferLastUse: [Int] = []
    /// The operator name of the node being planned, for step labels.
    var currentOperation = ""
    /// Floats of per-thread scratch the planned steps need.
    var scratchCount = 0
    /// How many nodes read each tensor (graph outputs count as readers).
    let readers: [String: Int]

    /// Elements per work item of elementwise steps, so threads get cache-sized blocks.
    static let elementBlock = 4096

    /// Plans `graph` for an input of logical (ONNX) shape `inputShape`; 4-D inputs are stored NHWC.
    static func plan(_ graph: Graph, inputShape: [Int]) throws -> ExecutionPlan {
        var planner = ExecutionPlanner(graph: graph)
        return try planner.build(inputShape: inputShape)
    }

    private init(graph: Graph) {
        self.graph = graph
        readers = graph.consumerCounts()
    }

    mutating func build(inputShape: [Int]) throws -> ExecutionPlan {
        for (name, constant) in graph.constants { values[name] = .constant(constant) }
        let inputLayout: Layout = inputShape.count == 4 && inputFeedsImageOperators() ? .nhwc : .plain
        let input = PlannedTensor(shape: inputShape, layout: inputLayout,
                                  buffer: newBuffer(count: inputShape.reduce(1, *), firstUse: -1))
        values[graph.input.name] = .runtime(input)
        var index = 0
        while index < graph.nodes.count {
            if let fused = try planInvertedBottleneck(at: index) {
                index += fused
            } else {
                try plan(graph.nodes[index])
                index += 1
            }
        }
        var outputs: [(String, PlannedTensor)] = []
        for name in graph.outputs {
            guard case .runtime(let tensor)? = values[name] else {
                throw EngineError(.unsupported, "output '\(name)' does not depend on the input; the engine only"
                    + " returns computed tensors.")
            }
            bufferLastUse[tensor.buffer] = Int.max
            outputs.append((name, tensor))
        }
        let (offsets, arenaCount) = assignOffsets()
        return ExecutionPlan(steps: steps, input: input, outputs: outputs, offsets: offsets, arenaCount: arenaCount,
                             scratchCount: scratchCount)
    }

    /// Whether the graph input goes straight into convolutions or pooling (NCHW images) rather than into a
    /// Transpose (TensorFlow exports with NHWC inputs).
    func inputFeedsImageOperators() -> Bool {
        !graph.nodes.contains { node in
            guard node.inputs.first == graph.input.name else { return false }
            if case .transpose = node.operation { return true }
            return false
        }
    }

    // MARK: - Buffers

    mutating func newBuffer(count: Int, firstUse: Int? = nil) -> Int {
        bufferCounts.append(count)
        bufferFirstUse.append(firstUse ?? steps.count)
        bufferLastUse.append(firstUse ?? steps.count)
        return bufferCounts.count - 1
    }

    mutating func newTensor(_ shape: [Int], _ layout: Layout) -> PlannedTensor {
        PlannedTensor(shape: shape, layout: layout, buffer: newBuffer(count: shape.reduce(1, *)))
    }

    /// Marks buffers as read by the step about to be appended.
    mutating func read(_ tensors: PlannedTensor...) {
        for tensor in tensors { bufferLastUse[tensor.buffer] = max(bufferLastUse[tensor.buffer], steps.count) }
    }

    /// Appends a step labelled `name [kind]`: the kind is the operator, or the helper part after `::`.
    mutating func append(
        _ name: String, workItems: Int, _ body: @escaping @Sendable (Arena, Range<Int>) -> Void
    ) {
        let parts = name.components(separatedBy: "::")
        let kind = parts.count > 1 ? parts[1] : currentOperation
        steps.append(Step(label: "\(name) [\(kind)]", workItems: max(workItems, 1), body: body))
    }

    /// Greedy best-fit reuse: a buffer takes over a block whose last reader ran before the buffer is written.
    func assignOffsets() -> ([Int], Int) {
        let order = bufferCounts.indices.sorted { bufferFirstUse[$0] < bufferFirstUse[$1] }
        var blockCapacity: [Int] = []
        var blockFreeAfter: [Int] = []
        var blockOf = [Int](repeating: 0, count: bufferCounts.count)
        for buffer in order {
            let size = bufferCounts[buffer]
            let free = blockCapacity.indices.filter { blockFreeAfter[$0] < bufferFirstUse[buffer] }
            let fitting = free.filter { blockCapacity[$0] >= size }
            let block: Int
            if let best = fitting.min(by: { blockCapacity[$0] < blockCapacity[$1] }) {
                block = best
            } else if let largest = free.max(by: { blockCapacity[$0] < blockCapacity[$1] }) {
                block = largest
                blockCapacity[block] = size
            } else {
                block = blockCapacity.count
                blockCapacity.append(size)
                blockFreeAfter.append(0)
            }
            blockOf[buffer] = block
            blockFreeAfter[block] = bufferLastUse[buffer]
        }
        var blockOffsets: [Int] = []
        var total = 0
        for capacity in blockCapacity {
            blockOffsets.append(total)
            total += (capacity + 15) / 16 * 16  // 64-byte aligned blocks
        }
        return (blockOf.map { blockOffsets[$0] }, max(total, 16))
    }

    // MARK: - Values and layouts

    func runtime(_ name: String, of node: Node) throws -> PlannedTensor {
        guard case .runtime(let tensor)? = values[name] else {
            throw EngineError(.unsupported, "\(node.label) reads '\(name)' as computed data, but it is "
                + (values[name] == nil ? "never produced." : "a constant; constant inputs are not supported here."))
        }
        return tensor
    }

    /// `tensor` in NHWC order, converting only if the two orders differ.
    mutating func nhwc(_ tensor: PlannedTensor, for node: Node) throws -> PlannedTensor {
        guard tensor.shape.count == 4 else {
            throw EngineError(.invalidInput, "\(node.label) needs a 4-D NCHW input, got shape \(tensor.shape).")
        }
        return converted(tensor, to: .nhwc, for: node)
    }

    /// `tensor` in row-major logical order, converting only if the two orders differ.
    mutating func plain(_ tensor: PlannedTensor, for node: Node) -> PlannedTensor {
        converted(tensor, to: .plain, for: node)
    }

    /// `tensor` in `layout`: itself, a view when both orders coincide, else a transpose step into a new buffer.
    mutating func converted(_ tensor: PlannedTensor, to layout: Layout, for node: Node) -> PlannedTensor {
        if tensor.layout == layout { return tensor }
        if tensor.layoutIsAmbiguous { return PlannedTensor(shape: tensor.shape, layout: layout, buffer: tensor.buffer) }
        let output = newTensor(tensor.shape, layout)
        read(tensor)
        let (n, c, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        let (source, target) = (tensor.buffer, output.buffer)
        let toNHWC = layout == .nhwc
        append("\(node.name)::\(toNHWC ? "to_nhwc" : "to_nchw")", workItems: 1) { arena, _ in
            if toNHWC {
                LayoutTransforms.nchwToNHWC(input: arena.pointer(source), output: arena.pointer(target),
                                            batch: n, channels: c, height: h, width: w)
            } else {
                LayoutTransforms.nhwcToNCHW(input: arena.pointer(source), output: arena.pointer(target),
                                            batch: n, channels: c, height: h, width: w)
            }
        }
        return output
    }

    mutating func define(_ node: Node, _ tensor: PlannedTensor) {
        values[node.outputs[0]] = .runtime(tensor)
    }

    // MARK: - Nodes

    mutating func plan(_ node: Node) throws {
        currentOperation = node.operation.name
        let constants: [ConstantTensor?] = node.inputs.map { name in
            if name.isEmpty { return nil }
            if case .constant(let value)? = values[name] { return value }
            return nil
        }
        if case .shape = node.operation {
            let shape = try runtime(node.inputs[0], of: node).shape
            values[node.outputs[0]] = .constant(ConstantTensor(shape: [shape.count], integers: shape.map(Int64.init)))
            return
        }
        let readsComputedData = node.inputs.indices.contains { !node.inputs[$0].isEmpty && constants[$0] == nil }
        if !readsComputedData {
            values[node.outputs[0]] = .constant(try ConstantFolder.evaluate(node, constants))
            return
        }
        switch node.operation {
        case .preparedConvolution(let convolution):
            try planConvolution(node, convolution)
        case .preparedGemm(let gemm):
            try planGemm(node, gemm)
        case .clamp(let clamp):
            let input = try runtime(node.inputs[0], of: node)
            let output = newTensor(input.shape, input.layout)
            read(input)
            let (source, target, count) = (input.buffer, output.buffer, input.count)
            append(node.name, workItems: blocks(count)) { arena, range in
                Elementwise.clamp(values: arena.pointer(source), output: arena.pointer(target),
                                  range: Self.elements(range, count), clamp: clamp)
            }
            define(node, output)
        case .sigmoid:
            let input = try runtime(node.inputs[0], of: node)
            let output = newTensor(input.shape, input.layout)
            read(input)
            let (source, target, count) = (input.buffer, output.buffer, input.count)
            append(node.name, workItems: blocks(count)) { arena, range in
                Elementwise.sigmoid(values: arena.pointer(source), output: arena.pointer(target),
                                    range: Self.elements(range, count))
            }
            define(node, output)
        case .binary(let operation):
            try planBinary(node, operation, constants: constants)
        case .batchNormalization(let epsilon):
            try planBatchNormalization(node, epsilon: epsilon, constants: constants)
        case .globalAveragePool:
            let input = try nhwc(try runtime(node.inputs[0], of: node), for: node)
            let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
            let output = newTensor([n, c, 1, 1], .nhwc)
            read(input)
            let (source, target) = (input.buffer, output.buffer)
            append(node.name, workItems: n) { arena, range in
                Pooling.globalAverage(batch: n, spatial: h * w, channels: c, input: arena.pointer(source),
                                      output: arena.pointer(target), images: range)
            }
            define(node, output)
        case .pool(let attributes):
            try planPool(node, attributes)
        case .gemm, .matMul:
            try planGenericMatrixProduct(node)
        case .flatten(let axis):
            let input = plain(try runtime(node.inputs[0], of: node), for: node)
            define(node, PlannedTensor(shape: ShapeInference.flatten(input.shape, axis: axis), layout: .plain,
                                       buffer: input.buffer))
        case .reshape(let allowZero):
            let input = plain(try runtime(node.inputs[0], of: node), for: node)
            guard node.inputs.count > 1, let target = constants[1] else {
                throw EngineError(.unsupported, "\(node.label) takes its shape from data computed per image;"
                    + " only shapes known once the input shape is fixed are supported.")
            }
            let shape = try ShapeInference.reshape(input.shape, to: target.integers, allowZero: allowZero, node: node)
            define(node, PlannedTensor(shape: shape, layout: .plain, buffer: input.buffer))
        case .identity:
            define(node, try runtime(node.inputs[0], of: node))
        case .concat(let axis):
            try planConcat(node, axis: axis, constants: constants)
        case .pad(let attributePads, let value):
            try planPad(node, attributePads: attributePads, value: value, constants: constants)
        case .transpose(let permutation):
            try planTranspose(node, permutation: permutation)
        case .softmax(let axis, let coercesTo2D):
            let input = plain(try runtime(node.inputs[0], of: node), for: node)
            let rank = input.shape.count
            let axis = axis < 0 ? axis + rank : axis
            guard coercesTo2D || axis == rank - 1 else {
                throw EngineError(.unsupported, "\(node.label) normalises axis \(axis) of a rank-\(rank) tensor;"
                    + " only the last axis is supported.")
            }
            let columns = input.shape[axis...].reduce(1, *)
            let rows = input.count / max(columns, 1)
            let output = newTensor(input.shape, .plain)
            read(input)
            let (source, target) = (input.buffer, output.buffer)
            append(node.name, workItems: rows) { arena, range in
                Softmax.forward(input: arena.pointer(source), output: arena.pointer(target), rows: range,
                                columns: columns)
            }
            define(node, output)
        case .convolution, .clipWithBoundInputs:
            throw EngineError(.unsupported, "\(node.label) was not prepared by the optimizer; only constant"
                + " weights and Clip bounds are supported.")
        case .shape, .gather, .unsqueeze, .squeeze, .cast, .slice, .constantOfShape:
            throw EngineError(.unsupported, "\(node.label) operates on image data computed per image; the engine"
                + " supports \(node.operation.name) only on shapes and constants.")
        }
    }

    func blocks(_ count: Int) -> Int { (count + Self.elementBlock - 1) / Self.elementBlock }

    static func elements(_ blocks: Range<Int>, _ count: Int) -> Range<Int> {
        (blocks.lowerBound * elementBlock)..<min(blocks.upperBound * elementBlock, count)
    }

}
