/// Evaluates nodes whose inputs are all known while planning: the shape arithmetic that PyTorch exports
/// (`Shape -> Gather -> Unsqueeze -> Concat -> Reshape`) and small constant expressions. Nothing here runs
/// per image.
enum ConstantFolder {
    /// The outputs of `node` on constant `inputs` (nil for omitted optional inputs).
    static func evaluate(_ node: Node, _ inputs: [ConstantTensor?]) throws -> ConstantTensor {
        func input(_ index: Int) throws -> ConstantTensor {
            guard index < inputs.count, let value = inputs[index] else {
                throw EngineError(.invalidModel, "\(node.label) lacks input \(index).")
            }
            return value
        }
        switch node.operation {
        case .identity:
            return try input(0)
        case .cast(let toInteger):
            let value = try input(0)
            return toInteger ? ConstantTensor(shape: value.shape, integers: value.integers)
                : ConstantTensor(shape: value.shape, floats: value.floats)
        case .gather(let axis):
            return try gather(try input(0), indices: try input(1), axis: axis, node: node)
        case .unsqueeze(let attributeAxes):
            let value = try input(0)
            let axes = try attributeAxes ?? input(1).integers.map { Int($0) }
            var shape = value.shape
            let rank = shape.count + axes.count
            for axis in axes.map({ $0 < 0 ? $0 + rank : $0 }).sorted() { shape.insert(1, at: axis) }
            return value.reshaped(shape)
        case .squeeze(let attributeAxes):
            let value = try input(0)
            let axes = try attributeAxes ?? (inputs.count > 1 && inputs[1] != nil
                ? input(1).integers.map { Int($0) } : nil)
            let rank = value.shape.count
            let drop = Set(axes.map { $0.map { $0 < 0 ? $0 + rank : $0 } }
                ?? value.shape.indices.filter { value.shape[$0] == 1 })
            return value.reshaped(value.shape.indices.filter { !drop.contains($0) }.map { value.shape[$0] })
        case .concat(let axis):
            let values = inputs.compactMap { $0 }
            guard let first = values.first else { throw EngineError(.invalidModel, "\(node.label) has no inputs.") }
            let rank = first.shape.count
            let axis = axis < 0 ? axis + rank : axis
            let outer = first.shape[..<axis].reduce(1, *)
            var shape = first.shape
            shape[axis] = values.map { $0.shape[axis] }.reduce(0, +)
            if values.allSatisfy(\.isInteger) {
                var result: [Int64] = []
                for block in 0..<outer {
                    for value in values {
                        let inner = value.count / outer
                        result += value.integers[(block * inner)..<((block + 1) * inner)]
                    }
                }
                return ConstantTensor(shape: shape, integers: result)
            }
            var result: [Float] = []
            for block in 0..<outer {
                for value in values {
                    let inner = value.count / outer
                    result += value.floats[(block * inner)..<((block + 1) * inner)]
                }
            }
            return ConstantTensor(shape: shape, floats: result)
        case .reshape(let allowZero):
            let value = try input(0)
            return value.reshaped(try ShapeInference.reshape(value.shape, to: try input(1).integers,
                                                             allowZero: allowZero, node: node))
        case .flatten(let axis):
            let value = try input(0)
            return value.reshaped(ShapeInference.flatten(value.shape, axis: axis))
        case .slice:
            return try slice(node, inputs: inputs)
        case .constantOfShape(let fill):
            let shape = try input(0).integers.map { Int($0) }
            return ConstantTensor(shape: shape, floats: [Float](repeating: fill, count: shape.reduce(1, *)))
        case .binary(let operation):
            let (lhs, rhs) = (try input(0), try input(1))
            let shape = try ShapeInference.broadcast(lhs.shape, rhs.shape, node: node)
            let count = shape.reduce(1, *)
            func index(_ flat: Int, in operandShape: [Int]) -> Int {
                var remainder = flat, result = 0, step = 1
                for axis in (0..<shape.count).reversed() {
                    let coordinate = remainder % shape[axis]
                    remainder /= shape[axis]
                    let operandAxis = axis - (shape.count - operandShape.count)
                    if operandAxis >= 0 {
                        if operandShape[operandAxis] != 1 { result += coordinate * step }
                        step *= operandShape[operandAxis]
                    }
                }
                return result
            }
            if lhs.isInteger && rhs.isInteger {
                let (a, b) = (lhs.integers, rhs.integers)
                let values: [Int64] = (0..<count).map { flat in
                    let (x, y) = (a[index(flat, in: lhs.shape)], b[index(flat, in: rhs.shape)])
                    switch operation {
                    case .add: return x + y
                    case .sub: return x - y
                    case .mul: return x * y
                    case .div: return y == 0 ? 0 : x / y
                    }
                }
                return ConstantTensor(shape: shape, integers: values)
            }
            let (a, b) = (lhs.floats, rhs.floats)
            let values: [Float] = (0..<count).map { flat in
                let (x, y) = (a[index(flat, in: lhs.shape)], b[index(flat, in: rhs.shape)])
                switch operation {
                case .add: return x + y
                case .sub: return x - y
                case .mul: return x * y
                case .div: return x / y
                }
            }
            return ConstantTensor(shape: shape, floats: values)
        default:
            throw EngineError(.unsupported, "\(node.label) has only constant inputs and would have to be"
                + " evaluated while planning, which is supported for shape arithmetic only.")
        }
    }

    private static func gather(_ data: ConstantTensor, indices: ConstantTensor, axis: Int, node: Node) throws
        -> ConstantTensor
    {
        let rank = data.shape.count
        let axis = axis < 0 ? axis + rank : axis
        guard axis >= 0, axis < rank else {
            throw EngineError(.invalidModel, "\(node.label) gathers along axis \(axis) of a rank-\(rank) tensor.")
        }
        let outer = data.shape[..<axis].reduce(1, *)
        let inner = data.shape[(axis + 1)...].reduce(1, *)
        let size = data.shape[axis]
        let picks = try indices.integers.map { raw -> Int in
            let index = Int(raw) < 0 ? Int(raw) + size : Int(raw)
            guard index >= 0, index < size else {
                throw EngineError(.invalidModel, "\(node.label) gathers index \(raw) from a dimension of \(size).")
            }
            return index
        }
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        var order: [Int] = []
        for block in 0..<outer {
            for pick in picks { order += ((block * size + pick) * inner)..<((block * size + pick + 1) * inner) }
        }
        if data.isInteger {
            let values = data.integers
            return ConstantTensor(shape: shape, integers: order.map { values[$0] })
        }
        let values = data.floats
        return ConstantTensor(shape: shape, floats: order.map { values[$0] })
    }

    private static func slice(_ node: Node, inputs: [ConstantTensor?]) throws -> ConstantTensor {
        guard inputs.count >= 3, let data = inputs[0], let starts = inputs[1], let ends = inputs[2] else {
            throw EngineError(.invalidModel, "\(node.label) needs data, starts and ends.")
        }
        let rank = data.shape.count
        let axes = inputs.count > 3 && inputs[3] != nil
            ? inputs[3]!.integers.map { Int($0) < 0 ? Int($0) + rank : Int($0) } : Array(0..<starts.count)
        let steps = inputs.count > 4 && inputs[4] != nil ? inputs[4]!.integers.map { Int($0) }
            : [Int](repeating: 1, count: axes.count)
        guard steps.allSatisfy({ $0 == 1 }) else {
            throw EngineError(.unsupported, "\(node.label) uses slice steps \(steps); only step 1 is supported.")
        }
        var lower = [Int](repeating: 0, count: rank)
        var upper = data.shape
        for (position, axis) in axes.enumerated() {
            let size = data.shape[axis]
            func clampIndex(_ raw: Int64) -> Int {
                let value = raw < 0 ? Int(max(raw + Int64(size), 0)) : Int(min(raw, Int64(size)))
                return min(max(value, 0), size)
            }
            lower[axis] = clampIndex(starts.integers[position])
            upper[axis] = max(clampIndex(ends.integers[position]), lower[axis])
        }
        let shape = (0..<rank).map { upper[$0] - lower[$0] }
        var order: [Int] = []
        func visit(_ axis: Int, _ offset: Int) {
            if axis == rank { order.append(offset); return }
            let stride = data.shape[(axis + 1)...].reduce(1, *)
            for coordinate in lower[axis]..<upper[axis] { visit(axis + 1, offset + coordinate * stride) }
        }
        visit(0, 0)
        if data.isInteger {
            let values = data.integers
            return ConstantTensor(shape: shape, integers: order.map { values[$0] })
        }
        let values = data.floats
        return ConstantTensor(shape: shape, floats: order.map { values[$0] })
    }
}

extension ConstantTensor {
    /// The same values under another shape with the same element count.
    func reshaped(_ newShape: [Int]) -> ConstantTensor {
        var copy = self
        copy.shape = newShape
        return copy
    }
}
