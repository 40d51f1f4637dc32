/// Planning elementwise operators with broadcasting, and standalone BatchNormalization.
extension ExecutionPlanner {
    mutating func planBinary(_ node: Node, _ operation: BinaryOperation, constants: [ConstantTensor?]) throws {
        guard node.inputs.count == 2 else { throw EngineError(.invalidModel, "\(node.label) needs two inputs.") }
        let lhs = try operand(node, 0, constants: constants, partner: 1)
        let rhs = try operand(node, 1, constants: constants, partner: 0)
        define(node, try binaryStep(node, operation, lhs, rhs))
    }

    /// A binary operand as a planned tensor; a constant is materialised in the layout of the other operand.
    mutating func operand(_ node: Node, _ index: Int, constants: [ConstantTensor?], partner: Int) throws
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
    mutating func materialize(_ values: [Float], into buffer: Int, label: String) {
        append(label, workItems: 1) { arena, _ in
            values.withUnsafeBufferPointer { source in
                arena.pointer(buffer).update(from: source.baseAddress!, count: source.count)
            }
        }
    }

    /// `lhs op rhs` with NumPy broadcasting on the logical shapes, computed in storage order.
    mutating func binaryStep(
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
    func channelBroadcast(_ a: PlannedTensor, _ b: PlannedTensor) -> (PlannedTensor, PlannedTensor)? {
        for (full, scales) in [(a, b), (b, a)] {
            if scales.shape == [full.shape[0], full.shape[1], 1, 1] { return (full, scales) }
        }
        return nil
    }

    mutating func planBatchNormalization(_ node: Node, epsilon: Float, constants: [ConstantTensor?]) throws {
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
}
