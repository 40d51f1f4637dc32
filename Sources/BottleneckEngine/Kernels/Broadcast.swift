/// An elementwise arithmetic operation on two `Float`s, as in ONNX `Add`, `Sub`, `Mul` and `Div`.
public enum BinaryOperation: Sendable, CaseIterable {
    case add, sub, mul, div

    @inline(__always)
    package func apply(_ lhs: Float, _ rhs: Float) -> Float {
        switch self {
        case .add: lhs + rhs
        case .sub: lhs - rhs
        case .mul: lhs * rhs
        case .div: lhs / rhs
        }
    }
}

/// Binary operations with NumPy multidirectional broadcasting over contiguous row-major tensors: the correct
/// general fallback for shapes the specialised elementwise kernels do not cover.
///
/// Shapes are right-aligned; along each axis the two sizes must be equal or one of them 1, and a size-1 axis
/// (or a missing leading axis) is repeated to the other's size.
package enum Broadcast {
    /// The broadcast shape of `lhs` and `rhs`, or `nil` if some axis has two different sizes, neither 1.
    package static func resultShape(_ lhs: [Int], _ rhs: [Int]) -> [Int]? {
        let rank = max(lhs.count, rhs.count)
        let paddedLhs = [Int](repeating: 1, count: rank - lhs.count) + lhs
        let paddedRhs = [Int](repeating: 1, count: rank - rhs.count) + rhs
        var shape: [Int] = []
        for (left, right) in zip(paddedLhs, paddedRhs) {
            guard left == right || left == 1 || right == 1 else { return nil }
            shape.append(left == 1 ? right : left)
        }
        return shape
    }

    /// `output = lhs op rhs` with broadcasting; `outputShape` must be `resultShape(lhsShape, rhsShape)`.
    ///
    /// Walks the output in order, keeping each operand's offset from per-axis strides (0 on broadcast axes),
    /// with the innermost axis as a tight loop. `output` may be an operand whose shape equals `outputShape`.
    package static func binary(
        op: BinaryOperation, lhsShape: [Int], lhs: UnsafePointer<Float>, rhsShape: [Int], rhs: UnsafePointer<Float>,
        outputShape: [Int], output: UnsafeMutablePointer<Float>
    ) {
        precondition(resultShape(lhsShape, rhsShape) == outputShape,
                     "\(outputShape) is not the broadcast of \(lhsShape) and \(rhsShape)")
        let count = outputShape.reduce(1, *)
        guard count > 0 else { return }
        guard let innerSize = outputShape.last else {
            output[0] = op.apply(lhs[0], rhs[0])
            return
        }
        let lhsStrides = broadcastStrides(lhsShape, rank: outputShape.count)
        let rhsStrides = broadcastStrides(rhsShape, rank: outputShape.count)
        let outerAxes = outputShape.count - 1
        var index = [Int](repeating: 0, count: outerAxes)
        var lhsOffset = 0, rhsOffset = 0
        for rowStart in stride(from: 0, to: count, by: innerSize) {
            applyRow(op, lhs + lhsOffset, lhsStrides[outerAxes], rhs + rhsOffset, rhsStrides[outerAxes],
                     output + rowStart, innerSize)
            // Advance the odometer over the outer axes.
            var axis = outerAxes - 1
            while axis >= 0 {
                index[axis] += 1
                lhsOffset += lhsStrides[axis]
                rhsOffset += rhsStrides[axis]
                if index[axis] < outputShape[axis] { break }
                lhsOffset -= lhsStrides[axis] * index[axis]
                rhsOffset -= rhsStrides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Naive implementation of `binary`, the oracle for tests: unravels every output index separately.
    package static func reference(
        op: BinaryOperation, lhsShape: [Int], lhs: UnsafePointer<Float>, rhsShape: [Int], rhs: UnsafePointer<Float>,
        outputShape: [Int], output: UnsafeMutablePointer<Float>
    ) {
        let rank = outputShape.count
        let paddedLhs = [Int](repeating: 1, count: rank - lhsShape.count) + lhsShape
        let paddedRhs = [Int](repeating: 1, count: rank - rhsShape.count) + rhsShape
        for flat in 0..<outputShape.reduce(1, *) {
            var remainder = flat
            var coordinates = [Int](repeating: 0, count: rank)
            for axis in (0..<rank).reversed() {
                coordinates[axis] = remainder % outputShape[axis]
                remainder /= outputShape[axis]
            }
            var lhsIndex = 0, rhsIndex = 0
            for axis in 0..<rank {
                lhsIndex = lhsIndex * paddedLhs[axis] + (paddedLhs[axis] == 1 ? 0 : coordinates[axis])
                rhsIndex = rhsIndex * paddedRhs[axis] + (paddedRhs[axis] == 1 ? 0 : coordinates[axis])
            }
            output[flat] = op.apply(lhs[lhsIndex], rhs[rhsIndex])
        }
    }

    /// Row-major strides of `shape` right-aligned to `rank` axes, 0 on size-1 and missing axes.
    private static func broadcastStrides(_ shape: [Int], rank: Int) -> [Int] {
        var strides = [Int](repeating: 0, count: rank)
        var stride = 1
        for (offset, size) in shape.enumerated().reversed() {
            strides[rank - shape.count + offset] = size == 1 ? 0 : stride
            stride *= size
        }
        return strides
    }

    /// One innermost row; the operation is chosen once per row so each loop body is a single instruction.
    @inline(__always)
    private static func applyRow(
        _ op: BinaryOperation, _ lhs: UnsafePointer<Float>, _ lhsStride: Int, _ rhs: UnsafePointer<Float>,
        _ rhsStride: Int, _ output: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        switch op {
        case .add: for i in 0..<count { output[i] = lhs[i * lhsStride] + rhs[i * rhsStride] }
        case .sub: for i in 0..<count { output[i] = lhs[i * lhsStride] - rhs[i * rhsStride] }
        case .mul: for i in 0..<count { output[i] = lhs[i * lhsStride] * rhs[i * rhsStride] }
        case .div: for i in 0..<count { output[i] = lhs[i * lhsStride] / rhs[i * rhsStride] }
        }
    }
}
