/// Builds an `ExecutionPlan` for one input shape: infers every tensor's shape, folds shape arithmetic,
/// chooses layouts (NHWC for images, row-major elsewhere, converting only where an operator needs it),
/// turns nodes into kernel steps and packs the tensors into one arena, reusing buffers once they are dead.
struct ExecutionPlanner {
    private enum Value {
        case runtime(PlannedTensor)
        case constant(ConstantTensor)
    }

    private let graph: Graph
    private var values: [String: Value] = [:]
    private var steps: [Step] = []
    private var bufferCounts: [Int] = []
    private var bufferFirstUse: [Int] = []
    private var bufferLastUse: [Int] = []
    /// The operator name of the node being planned, for step labels.
    private var currentOperation = ""

    /// Elements per work item of elementwise steps, so threads get cache-sized blocks.
    private static let elementBlock = 4096
    /// Output pixels per sgemm call: large enough that packing the weights is amortised, small enough that
    /// the call's output is still in cache for the epilogue.
    private static let gemmTilePixels = 512

    /// Plans `graph` for an input of logical (ONNX) shape `inputShape`; 4-D inputs are stored NHWC.
    static func plan(_ graph: Graph, inputShape: [Int]) throws -> ExecutionPlan {
        var planner = ExecutionPlanner(graph: graph)
        return try planner.build(inputShape: inputShape)
    }

    private init(graph: Graph) {
        self.graph = graph
    }

    private mutating func build(inputShape: [Int]) throws -> ExecutionPlan {
        for (name, constant) in graph.constants { values[name] = .constant(constant) }
        let inputLayout: Layout = inputShape.count == 4 && inputFeedsImageOperators() ? .nhwc : .plain
        let input = PlannedTensor(shape: inputShape, layout: inputLayout,
                                  buffer: newBuffer(count: inputShape.reduce(1, *), firstUse: -1))
        values[graph.input.name] = .runtime(input)
        for node in graph.nodes { try plan(node) }
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
        return ExecutionPlan(steps: steps, input: input, outputs: outputs, offsets: offsets, arenaCount: arenaCount)
    }

    /// Whether the graph input goes straight into convolutions or pooling (NCHW images) rather than into a
    /// Transpose (TensorFlow exports with NHWC inputs).
    private func inputFeedsImageOperators() -> Bool {
        !graph.nodes.contains { node in
            guard node.inputs.first == graph.input.name else { return false }
            if case .transpose = node.operation { return true }
            return false
        }
    }

    // MARK: - Buffers

    private mutating func newBuffer(count: Int, firstUse: Int? = nil) -> Int {
        bufferCounts.append(count)
        bufferFirstUse.append(firstUse ?? steps.count)
        bufferLastUse.append(firstUse ?? steps.count)
        return bufferCounts.count - 1
    }

    private mutating func newTensor(_ shape: [Int], _ layout: Layout) -> PlannedTensor {
        PlannedTensor(shape: shape, layout: layout, buffer: newBuffer(count: shape.reduce(1, *)))
    }

    /// Marks buffers as read by the step about to be appended.
    private mutating func read(_ tensors: PlannedTensor...) {
        for tensor in tensors { bufferLastUse[tensor.buffer] = max(bufferLastUse[tensor.buffer], steps.count) }
    }

    /// Appends a step labelled `name [kind]`: the kind is the operator, or the helper part after `::`.
    private mutating func append(
        _ name: String, workItems: Int, _ body: @escaping @Sendable (Arena, Range<Int>) -> Void
    ) {
        let parts = name.components(separatedBy: "::")
        let kind = parts.count > 1 ? parts[1] : currentOperation
        steps.append(Step(label: "\(name) [\(kind)]", workItems: max(workItems, 1), body: body))
    }

    /// Greedy best-fit reuse: a buffer takes over a block whose last reader ran before the buffer is written.
    private func assignOffsets() -> ([Int], Int) {
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

    private func runtime(_ name: String, of node: Node) throws -> PlannedTensor {
        guard case .runtime(let tensor)? = values[name] else {
            throw EngineError(.unsupported, "\(node.label) reads '\(name)' as computed data, but it is "
                + (values[name] == nil ? "never produced." : "a constant; constant inputs are not supported here."))
        }
        return tensor
    }

    /// `tensor` in NHWC order, converting only if the two orders differ.
    private mutating func nhwc(_ tensor: PlannedTensor, for node: Node) throws -> PlannedTensor {
        guard tensor.shape.count == 4 else {
            throw EngineError(.invalidInput, "\(node.label) needs a 4-D NCHW input, got shape \(tensor.shape).")
        }
        return converted(tensor, to: .nhwc, for: node)
    }

    /// `tensor` in row-major logical order, converting only if the two orders differ.
    private mutating func plain(_ tensor: PlannedTensor, for node: Node) -> PlannedTensor {
        converted(tensor, to: .plain, for: node)
    }

    /// `tensor` in `layout`: itself, a view when both orders coincide, else a transpose step into a new buffer.
    private mutating func converted(_ tensor: PlannedTensor, to layout: Layout, for node: Node) -> PlannedTensor {
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

    private mutating func define(_ node: Node, _ tensor: PlannedTensor) {
        values[node.outputs[0]] = .runtime(tensor)
    }

    // MARK: - Nodes

    private mutating func plan(_ node: Node) throws {
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

    private func blocks(_ count: Int) -> Int { (count + Self.elementBlock - 1) / Self.elementBlock }

    private static func elements(_ blocks: Range<Int>, _ count: Int) -> Range<Int> {
        (blocks.lowerBound * elementBlock)..<min(blocks.upperBound * elementBlock, count)
    }

    // MARK: - Convolution and matrix products

    private mutating func planConvolution(_ node: Node, _ convolution: PreparedConvolution) throws {
        let input = try nhwc(try runtime(node.inputs[0], of: node), for: node)
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        guard c == convolution.inputChannels else {
            throw EngineError(.invalidInput, "\(node.label) expects \(convolution.inputChannels) input channels,"
                + " got \(c) (input shape \(input.shape)).")
        }
        let window = convolution.window
        let pads = window.resolvedPads(height: h, width: w)
        guard h + pads.top + pads.bottom >= window.kernelHeight, w + pads.left + pads.right >= window.kernelWidth else {
            throw EngineError(.invalidInput, "\(node.label): a \(window.kernelHeight)x\(window.kernelWidth) kernel"
                + " does not fit its \(h)x\(w) input; the input image is too small for this model.")
        }
        let geometry = ConvolutionGeometry(
            batch: n, inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: convolution.outputChannels,
            kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth, strideHeight: window.strideHeight,
            strideWidth: window.strideWidth, padTop: pads.top, padLeft: pads.left, padBottom: pads.bottom,
            padRight: pads.right, groups: convolution.groups)
        let outputShape = [n, convolution.outputChannels, geometry.outputHeight, geometry.outputWidth]

        var residual: PlannedTensor?
        var separateResidual: PlannedTensor?
        if convolution.addsResidual {
            var candidate = try runtime(node.inputs[1], of: node)
            if candidate.shape == outputShape {
                candidate = try nhwc(candidate, for: node)
                residual = candidate
            } else {
                separateResidual = candidate
            }
        }
        // Without a fusable residual the activation must wait for the separate add.
        let clamp = separateResidual == nil ? convolution.clamp : .none
        let output = newTensor(outputShape, .nhwc)
        var scratch: Int?
        if convolution.kind == .general {
            let columns = geometry.outputRows * geometry.outputWidth
                * geometry.kernelHeight * geometry.kernelWidth * geometry.inputChannelsPerGroup
            scratch = newBuffer(count: columns)
        }
        read(input)
        if let residual { read(residual) }
        let (source, target, residualBuffer) = (input.buffer, output.buffer, residual?.buffer)
        let body = Self.convolutionBody(convolution, geometry: geometry, clamp: clamp, scratch: scratch)
        append(node.name, workItems: geometry.outputRows) { arena, rows in
            body(arena.pointer(source), arena.pointer(target), residualBuffer.map(arena.pointer), arena, rows)
        }
        if let separateResidual {
            try planSeparateResidual(node, convolutionOutput: output, residual: separateResidual,
                                     clamp: convolution.clamp)
        } else {
            define(node, output)
        }
    }

    /// Runs one prepared convolution over output rows `rows`:
    /// `(input, output, residual, arena, rows)`.
    private static func convolutionBody(
        _ convolution: PreparedConvolution, geometry: ConvolutionGeometry, clamp: Clamp, scratch: Int?
    ) -> @Sendable (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, Arena,
                    Range<Int>) -> Void
    {
        let outputChannels = geometry.outputChannels
        let outputWidth = geometry.outputWidth
        return { input, output, residual, arena, rows in
            convolution.packedWeights.withUnsafeBufferPointer { weights in
                convolution.bias.withUnsafeBufferPointer { bias in
                    let pixels = (rows.lowerBound * outputWidth)..<(rows.upperBound * outputWidth)
                    func epilogue(_ tile: Range<Int>, addBias: Bool) {
                        if addBias {
                            Elementwise.biasClamp(values: output + tile.lowerBound * outputChannels,
                                                  pixels: 0..<tile.count, channels: outputChannels,
                                                  bias: bias.baseAddress!, clamp: residual == nil ? clamp : .none)
                        }
                        if let residual {
                            let elements = (tile.lowerBound * outputChannels)..<(tile.upperBound * outputChannels)
                            Elementwise.add(output, residual, output: output, range: elements, clamp: clamp)
                        }
                    }
                    switch convolution.kind {
                    case .pointwise:
                        let inputChannels = geometry.inputChannels
                        for start in stride(from: pixels.lowerBound, to: pixels.upperBound, by: gemmTilePixels) {
                            let tile = start..<min(start + gemmTilePixels, pixels.upperBound)
                            BLAS.multiply(m: tile.count, n: outputChannels, k: inputChannels,
                                          a: input + start * inputChannels, lda: inputChannels,
                                          b: weights.baseAddress!, ldb: outputChannels,
                                          c: output + start * outputChannels, ldc: outputChannels)
                            epilogue(tile, addBias: true)
                        }
                    case .depthwise:
                        DepthwiseConvolution.forward(
                            geometry: geometry, input: input, weights: weights.baseAddress!, bias: bias.baseAddress!,
                            clamp: residual == nil ? clamp : .none, output: output, rows: rows)
                        if residual != nil { epilogue(pixels, addBias: false) }
                    case .general:
                        let columns = arena.pointer(scratch!)
                        let depth = geometry.kernelHeight * geometry.kernelWidth * geometry.inputChannelsPerGroup
                        let groupOutputs = geometry.outputChannelsPerGroup
                        let rowsPerTile = max(1, gemmTilePixels / outputWidth)
                        for start in stride(from: rows.lowerBound, to: rows.upperBound, by: rowsPerTile) {
                            let tileRows = start..<min(start + rowsPerTile, rows.upperBound)
                            let tile = (tileRows.lowerBound * outputWidth)..<(tileRows.upperBound * outputWidth)
                            for group in 0..<geometry.groups {
                                Im2Col.pack(geometry: geometry, group: group, input: input, columns: columns,
                                            rows: tileRows)
                                BLAS.multiply(m: tile.count, n: groupOutputs, k: depth,
                                              a: columns + tile.lowerBound * depth, lda: depth,
                                              b: weights.baseAddress! + group * depth * groupOutputs, ldb: groupOutputs,
                                              c: output + tile.lowerBound * outputChannels + group * groupOutputs,
                                              ldc: outputChannels)
                            }
                            epilogue(tile, addBias: true)
                        }
                    }
                }
            }
        }
    }

    /// Residual add whose operand shape differs from the convolution output (broadcasting): a separate add,
    /// then the convolution's activation.
    private mutating func planSeparateResidual(
        _ node: Node, convolutionOutput: PlannedTensor, residual: PlannedTensor, clamp: Clamp
    ) throws {
        let sum = try binaryStep(node, .add, convolutionOutput, residual)
        if clamp.isNone {
            define(node, sum)
            return
        }
        let output = newTensor(sum.shape, sum.layout)
        read(sum)
        let (source, target, count) = (sum.buffer, output.buffer, sum.count)
        append("\(node.name)::activation", workItems: blocks(count)) { arena, range in
            Elementwise.clamp(values: arena.pointer(source), output: arena.pointer(target),
                              range: Self.elements(range, count), clamp: clamp)
        }
        define(node, output)
    }

    private mutating func planGemm(_ node: Node, _ gemm: PreparedGemm) throws {
        let input = plain(try runtime(node.inputs[0], of: node), for: node)
        guard let features = input.shape.last, features == gemm.inputFeatures else {
            throw EngineError(.invalidInput, "\(node.label) expects \(gemm.inputFeatures) input features, got"
                + " shape \(input.shape).")
        }
        let rows = input.count / features
        let outputShape = Array(input.shape.dropLast()) + [gemm.outputFeatures]
        let output = newTensor(outputShape, .plain)
        read(input)
        let (source, target) = (input.buffer, output.buffer)
        let (inputs, outputs) = (gemm.inputFeatures, gemm.outputFeatures)
        append(node.name, workItems: rows) { arena, range in
            let (a, c) = (arena.pointer(source), arena.pointer(target))
            gemm.packedWeights.withUnsafeBufferPointer { weights in
                gemm.bias.withUnsafeBufferPointer { bias in
                    BLAS.multiply(m: range.count, n: outputs, k: inputs, a: a + range.lowerBound * inputs, lda: inputs,
                                  b: weights.baseAddress!, ldb: outputs, c: c + range.lowerBound * outputs, ldc: outputs)
                    Elementwise.biasClamp(values: c + range.lowerBound * outputs, pixels: 0..<range.count,
                                          channels: outputs, bias: bias.baseAddress!, clamp: gemm.clamp)
                }
            }
        }
        define(node, output)
    }

    /// Gemm or MatMul of two computed 2-D matrices (weights that are constants were prepared already).
    private mutating func planGenericMatrixProduct(_ node: Node) throws {
        let a = plain(try runtime(node.inputs[0], of: node), for: node)
        let b = plain(try runtime(node.inputs[1], of: node), for: node)
        var transposeB = false
        if case .gemm(let attributes) = node.operation {
            guard !attributes.transposeA, attributes.alpha == 1, node.inputs.count < 3 || node.inputs[2].isEmpty else {
                throw EngineError(.unsupported, "\(node.label) multiplies two computed tensors with transA, alpha or"
                    + " a bias, which is not supported.")
            }
            transposeB = attributes.transposeB
        }
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw EngineError(.unsupported, "\(node.label) multiplies computed tensors of shapes \(a.shape) and"
                + " \(b.shape); only 2-D products are supported.")
        }
        let (m, k) = (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        guard (transposeB ? b.shape[1] : b.shape[0]) == k else {
            throw EngineError(.invalidInput, "\(node.label) cannot multiply \(a.shape) by \(b.shape).")
        }
        let output = newTensor([m, n], .plain)
        read(a, b)
        let (left, right, target, transposed) = (a.buffer, b.buffer, output.buffer, transposeB)
        append(node.name, workItems: 1) { arena, _ in
            if transposed {
                BLAS.multiplyTransposedB(m: m, n: n, k: k, a: arena.pointer(left), lda: k, b: arena.pointer(right),
                                         ldb: k, c: arena.pointer(target), ldc: n)
            } else {
                BLAS.multiply(m: m, n: n, k: k, a: arena.pointer(left), lda: k, b: arena.pointer(right), ldb: n,
                              c: arena.pointer(target), ldc: n)
            }
        }
        define(node, output)
    }

    // MARK: - Pooling

    private mutating func planPool(_ node: Node, _ attributes: PoolAttributes) throws {
        let input = try nhwc(try runtime(node.inputs[0], of: node), for: node)
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let window = attributes.window
        var pads = window.resolvedPads(height: h, width: w)
        if attributes.ceilMode {
            // Grow the bottom/right padding so floor division gives ONNX's ceil-mode size, dropping a last
            // window that would start in the padding.
            func ceilExtra(_ size: Int, _ before: Int, _ after: Int, _ kernel: Int, _ stride: Int) -> Int {
                let span = size + before + after - kernel
                var count = (span + stride - 1) / stride + 1
                if (count - 1) * stride >= size + before { count -= 1 }
                return max((count - 1) * stride + kernel - (size + before + after), 0)
            }
            let extraBottom = ceilExtra(h, pads.top, pads.bottom, window.kernelHeight, window.strideHeight)
            let extraRight = ceilExtra(w, pads.left, pads.right, window.kernelWidth, window.strideWidth)
            if attributes.kind == .average, attributes.countIncludePad, extraBottom + extraRight > 0 {
                throw EngineError(.unsupported, "\(node.label) combines ceil_mode with count_include_pad, which is"
                    + " not supported.")
            }
            pads.bottom += extraBottom
            pads.right += extraRight
        }
        guard h + pads.top + pads.bottom >= window.kernelHeight, w + pads.left + pads.right >= window.kernelWidth else {
            throw EngineError(.invalidInput, "\(node.label): its window does not fit the \(h)x\(w) input.")
        }
        let geometry = ConvolutionGeometry(
            batch: n, inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: c,
            kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth, strideHeight: window.strideHeight,
            strideWidth: window.strideWidth, padTop: pads.top, padLeft: pads.left, padBottom: pads.bottom,
            padRight: pads.right)
        let output = newTensor([n, c, geometry.outputHeight, geometry.outputWidth], .nhwc)
        read(input)
        let (source, target) = (input.buffer, output.buffer)
        let countIncludePad = attributes.countIncludePad
        switch attributes.kind {
        case .max:
            append(node.name, workItems: geometry.outputRows) { arena, rows in
                Pooling.max(geometry: geometry, input: arena.pointer(source), output: arena.pointer(target), rows: rows)
            }
        case .average:
            append(node.name, workItems: geometry.outputRows) { arena, rows in
                Pooling.average(geometry: geometry, countIncludePad: countIncludePad, input: arena.pointer(source),
                                output: arena.pointer(target), rows: rows)
            }
        }
        define(node, output)
    }

    // MARK: - Elementwise with broadcasting

    private mutating func planBinary(_ node: Node, _ operation: BinaryOperation, constants: [ConstantTensor?]) throws {
        guard node.inputs.count == 2 else { throw EngineError(.invalidModel, "\(node.label) needs two inputs.") }
        let lhs = try operand(node, 0, constants: constants, partner: 1)
        let rhs = try operand(node, 1, constants: constants, partner: 0)
        define(node, try binaryStep(node, operation, lhs, rhs))
    }

    /// A binary operand as a planned tensor; a constant is materialised in the layout of the other operand.
    private mutating func operand(_ node: Node, _ index: Int, constants: [ConstantTensor?], partner: Int) throws
        -> PlannedTensor
    {
        guard let constant = constants[index] else { return try runtime(node.inputs[index], of: node) }
        let other = try runtime(node.inputs[partner], of: node)
        var shape = constant.shape
        var values = constant.floats
        if other.layout == .nhwc, other.shape.count == 4, shape.count <= 4 {
            shape = [Int](repeating: 1, count: 4 - shape.count) + shape
            if !PlannedTensor(shape: shape, layout: .plain, buffer: 0).layoutIsAmbiguous {
                var transposed = [Float](repeating: 0, count: values.count)
                values.withUnsafeBufferPointer { source in
                    transposed.withUnsafeMutableBufferPointer { target in
                        LayoutTransforms.nchwToNHWC(input: source.baseAddress!, output: target.baseAddress!,
                                                    batch: shape[0], channels: shape[1], height: shape[2],
                                                    width: shape[3])
                    }
                }
                values = transposed
            }
            let tensor = newTensor(shape, .nhwc)
            materialize(values, into: tensor.buffer, label: "\(node.name)::constant\(index)")
            return tensor
        }
        let tensor = newTensor(shape, .plain)
        materialize(values, into: tensor.buffer, label: "\(node.name)::constant\(index)")
        return tensor
    }

    /// Copies constant values into a buffer at the start of every run (the arena is per worker, so constants
    /// cannot live there permanently without per-arena initialisation).
    private mutating func materialize(_ values: [Float], into buffer: Int, label: String) {
        append(label, workItems: 1) { arena, _ in
            values.withUnsafeBufferPointer { source in
                arena.pointer(buffer).update(from: source.baseAddress!, count: source.count)
            }
        }
    }

    /// `lhs op rhs` with NumPy broadcasting on the logical shapes, computed in storage order.
    private mutating func binaryStep(
        _ node: Node, _ operation: BinaryOperation, _ lhs: PlannedTensor, _ rhs: PlannedTensor
    ) throws -> PlannedTensor {
        let shape = try ShapeInference.broadcast(lhs.shape, rhs.shape, node: node)
        let useNHWC = shape.count == 4 && (lhs.layout == .nhwc || rhs.layout == .nhwc)
        func aligned(_ tensor: PlannedTensor) throws -> PlannedTensor {
            guard useNHWC else { return plain(tensor, for: node) }
            let padded = PlannedTensor(shape: [Int](repeating: 1, count: 4 - tensor.shape.count) + tensor.shape,
                                       layout: tensor.layout, buffer: tensor.buffer)
            return try nhwc(padded, for: node)
        }
        let (a, b) = (try aligned(lhs), try aligned(rhs))
        let output = newTensor(shape, useNHWC ? .nhwc : .plain)
        read(a, b)
        let (left, right, target, count) = (a.buffer, b.buffer, output.buffer, output.count)
        let (leftShape, rightShape, outputShape) = (a.physicalShape, b.physicalShape, output.physicalShape)
        if leftShape == rightShape, operation == .add || operation == .mul {
            append(node.name, workItems: blocks(count)) { arena, range in
                let elements = Self.elements(range, count)
                if operation == .add {
                    Elementwise.add(arena.pointer(left), arena.pointer(right), output: arena.pointer(target),
                                    range: elements, clamp: .none)
                } else {
                    Elementwise.multiply(arena.pointer(left), arena.pointer(right), output: arena.pointer(target),
                                         range: elements, clamp: .none)
                }
            }
        } else if operation == .mul, useNHWC, let (full, scales) = channelBroadcast(a, b) {
            let (n, c, pixels) = (shape[0], shape[1], shape[2] * shape[3])
            let (values, factors) = (full.buffer, scales.buffer)
            append(node.name, workItems: n) { arena, images in
                Elementwise.channelScale(values: arena.pointer(values), scales: arena.pointer(factors),
                                         pixelsPerImage: pixels, channels: c, images: images,
                                         output: arena.pointer(target))
            }
        } else {
            append(node.name, workItems: 1) { arena, _ in
                Broadcast.binary(op: operation, lhsShape: leftShape, lhs: arena.pointer(left), rhsShape: rightShape,
                                 rhs: arena.pointer(right), outputShape: outputShape, output: arena.pointer(target))
            }
        }
        return output
    }

    /// `(full, perImageChannelScales)` when one operand is `[N, C, H, W]` and the other `[N, C, 1, 1]`.
    private func channelBroadcast(_ a: PlannedTensor, _ b: PlannedTensor) -> (PlannedTensor, PlannedTensor)? {
        for (full, scales) in [(a, b), (b, a)] {
            if scales.shape == [full.shape[0], full.shape[1], 1, 1] { return (full, scales) }
        }
        return nil
    }

    private mutating func planBatchNormalization(_ node: Node, epsilon: Float, constants: [ConstantTensor?]) throws {
        guard constants.count >= 5, let gamma = constants[1], let beta = constants[2], let mean = constants[3],
            let variance = constants[4] else {
            throw EngineError(.unsupported, "\(node.label) has computed statistics; only constant ones are"
                + " supported.")
        }
        var input = try runtime(node.inputs[0], of: node)
        if input.shape.count == 4 { input = try nhwc(input, for: node) }
        guard input.shape.count == 2 || input.shape.count == 4, input.shape[1] == gamma.count else {
            throw EngineError(.unsupported, "\(node.label) normalises shape \(input.shape) with \(gamma.count)"
                + " channels; only [N, C] and [N, C, H, W] inputs are supported.")
        }
        let channels = gamma.count
        let (g, b, m, v) = (gamma.floats, beta.floats, mean.floats, variance.floats)
        let scale = (0..<channels).map { g[$0] / (v[$0] + epsilon).squareRoot() }
        let shift = (0..<channels).map { b[$0] - m[$0] * scale[$0] }
        let output = newTensor(input.shape, input.layout)
        read(input)
        let (source, target, pixels) = (input.buffer, output.buffer, input.count / channels)
        append(node.name, workItems: pixels) { arena, range in
            let (x, y) = (arena.pointer(source), arena.pointer(target))
            for pixel in range {
                for channel in 0..<channels {
                    y[pixel * channels + channel] = x[pixel * channels + channel] * scale[channel] + shift[channel]
                }
            }
        }
        define(node, output)
    }

    // MARK: - Data movement

    private mutating func planConcat(_ node: Node, axis: Int, constants: [ConstantTensor?]) throws {
        guard constants.allSatisfy({ $0 == nil }) else {
            throw EngineError(.unsupported, "\(node.label) concatenates computed data with constants, which is not"
                + " supported.")
        }
        var inputs = try node.inputs.map { try runtime($0, of: node) }
        let rank = inputs[0].shape.count
        let axis = axis < 0 ? axis + rank : axis
        var shape = inputs[0].shape
        shape[axis] = inputs.map { $0.shape[axis] }.reduce(0, +)
        for input in inputs where input.shape.count != rank
            || input.shape.enumerated().contains(where: { $0.offset != axis && $0.element != shape[$0.offset] }) {
            throw EngineError(.invalidModel, "\(node.label) cannot concatenate shapes"
                + " \(inputs.map(\.shape)) along axis \(axis).")
        }
        if rank == 4, axis == 1 {
            inputs = try inputs.map { try nhwc($0, for: node) }
            let output = newTensor(shape, .nhwc)
            for input in inputs { read(input) }
            let parts = inputs.map { ($0.buffer, $0.shape[1]) }
            let (target, pixels) = (output.buffer, shape[0] * shape[2] * shape[3])
            append(node.name, workItems: 1) { arena, _ in
                LayoutTransforms.concatenateChannels(
                    inputs: parts.map { (UnsafePointer(arena.pointer($0.0)), channels: $0.1) }, pixels: pixels,
                    output: arena.pointer(target))
            }
            define(node, output)
            return
        }
        inputs = inputs.map { plain($0, for: node) }
        let output = newTensor(shape, .plain)
        for input in inputs { read(input) }
        let outer = shape[..<axis].reduce(1, *)
        let parts = inputs.map { ($0.buffer, $0.count / outer) }
        let target = output.buffer
        append(node.name, workItems: 1) { arena, _ in
            var destination = arena.pointer(target)
            for block in 0..<outer {
                for (buffer, inner) in parts {
                    destination.update(from: arena.pointer(buffer) + block * inner, count: inner)
                    destination += inner
                }
            }
        }
        define(node, output)
    }

    private mutating func planPad(_ node: Node, attributePads: [Int]?, value: Float, constants: [ConstantTensor?])
        throws
    {
        let input = try runtime(node.inputs[0], of: node)
        let rank = input.shape.count
        var pads = attributePads ?? []
        var fill = value
        if attributePads == nil {
            guard node.inputs.count > 1, let padsInput = constants[1] else {
                throw EngineError(.unsupported, "\(node.label) takes its pads from computed data; only constant"
                    + " pads are supported.")
            }
            pads = padsInput.integers.map { Int($0) }
            if node.inputs.count > 2, let constantValue = constants[2] { fill = constantValue.floats.first ?? 0 }
            if node.inputs.count > 3, !node.inputs[3].isEmpty {
                throw EngineError(.unsupported, "\(node.label) pads selected axes only, which is not supported.")
            }
        }
        guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 }) else {
            throw EngineError(.unsupported, "\(node.label) has pads \(pads) for a rank-\(rank) input; only"
                + " non-negative pads on every axis are supported.")
        }
        var before = Array(pads[..<rank])
        var after = Array(pads[rank...])
        let shape = (0..<rank).map { input.shape[$0] + before[$0] + after[$0] }
        let output = newTensor(shape, input.layout)
        if input.layout == .nhwc {
            before = [before[0], before[2], before[3], before[1]]
            after = [after[0], after[2], after[3], after[1]]
        }
        read(input)
        let (source, target, physical) = (input.buffer, output.buffer, input.physicalShape)
        let (padsBefore, padsAfter, padValue) = (before, after, fill)
        append(node.name, workItems: 1) { arena, _ in
            LayoutTransforms.pad(input: arena.pointer(source), shape: physical, padsBefore: padsBefore,
                                 padsAfter: padsAfter, value: padValue, output: arena.pointer(target))
        }
        define(node, output)
    }

    private mutating func planTranspose(_ node: Node, permutation: [Int]?) throws {
        var input = try runtime(node.inputs[0], of: node)
        let rank = input.shape.count
        let permutation = permutation ?? Array((0..<rank).reversed())
        guard permutation.sorted() == Array(0..<rank) else {
            throw EngineError(.invalidModel, "\(node.label) has permutation \(permutation) for rank \(rank).")
        }
        let shape = permutation.map { input.shape[$0] }
        // NHWC data is already the NCHW -> NHWC transpose of its logical tensor, and the reverse: both are views.
        if rank == 4, input.layout == .plain, permutation == [0, 3, 1, 2] {
            define(node, PlannedTensor(shape: shape, layout: .nhwc, buffer: input.buffer))
            return
        }
        if rank == 4, input.layout == .nhwc, permutation == [0, 2, 3, 1] {
            define(node, PlannedTensor(shape: shape, layout: .plain, buffer: input.buffer))
            return
        }
        input = plain(input, for: node)
        let output = newTensor(shape, .plain)
        read(input)
        let (source, target, inputShape) = (input.buffer, output.buffer, input.shape)
        append(node.name, workItems: 1) { arena, _ in
            LayoutTransforms.transpose(input: arena.pointer(source), shape: inputShape, permutation: permutation,
                                       output: arena.pointer(target))
        }
        define(node, output)
    }
}
