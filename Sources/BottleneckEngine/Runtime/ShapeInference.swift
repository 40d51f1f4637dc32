/// ONNX shape rules shared by the planner and the constant folder.
enum ShapeInference {
    /// NumPy-style multidirectional broadcasting.
    static func broadcast(_ lhs: [Int], _ rhs: [Int], node: Node) throws -> [Int] {
        let rank = max(lhs.count, rhs.count)
        let a = [Int](repeating: 1, count: rank - lhs.count) + lhs
        let b = [Int](repeating: 1, count: rank - rhs.count) + rhs
        return try (0..<rank).map { axis in
            if a[axis] == b[axis] || b[axis] == 1 { return a[axis] }
            if a[axis] == 1 { return b[axis] }
            throw EngineError(.invalidModel, "\(node.label) cannot broadcast shapes \(lhs) and \(rhs).")
        }
    }

    /// Reshape's target: `0` copies the input dimension (unless `allowZero`), `-1` is inferred.
    static func reshape(_ shape: [Int], to target: [Int64], allowZero: Bool, node: Node) throws -> [Int] {
        var result = target.enumerated().map { axis, value in
            value == 0 && !allowZero && axis < shape.count ? shape[axis] : Int(value)
        }
        let count = shape.reduce(1, *)
        if let inferred = result.firstIndex(of: -1) {
            let known = result.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw EngineError(.invalidModel, "\(node.label) cannot reshape \(shape) to \(target).")
            }
            result[inferred] = count / known
        }
        guard result.allSatisfy({ $0 >= 0 }), result.reduce(1, *) == count else {
            throw EngineError(.invalidModel, "\(node.label) cannot reshape \(shape) (\(count) values) to \(target).")
        }
        return result
    }

    /// Flatten to 2-D at `axis`.
    static func flatten(_ shape: [Int], axis: Int) -> [Int] {
        let axis = axis < 0 ? axis + shape.count : axis
        return [shape[..<axis].reduce(1, *), shape[axis...].reduce(1, *)]
    }
}
