/// Planning Concat, Pad and Transpose.
extension ExecutionPlanner {
    mutating func planConcat(_ node: Node, axis: Int, constants: [ConstantTensor?]) throws {
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

    mutating func planPad(_ node: Node, attributePads: [Int]?, value: Float, constants: [ConstantTensor?])
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

    mutating func planTranspose(_ node: Node, permutation: [Int]?) throws {
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
