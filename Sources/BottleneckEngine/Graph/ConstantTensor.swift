/// A tensor whose value is known without running the model: a weight, a `Constant` node, or shape
/// arithmetic folded once the input shape is known. Shapes are ONNX's (logical, row-major).
public struct ConstantTensor: Sendable, Equatable {
    public enum Elements: Sendable, Equatable {
        case float([Float])
        case int64([Int64])
    }

    public var shape: [Int]
    public var elements: Elements

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.shape = shape
        self.elements = .float(floats)
    }

    public init(shape: [Int], integers: [Int64]) {
        precondition(shape.reduce(1, *) == integers.count, "shape \(shape) does not hold \(integers.count) values")
        self.shape = shape
        self.elements = .int64(integers)
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values as floats (integers converted).
    public var floats: [Float] {
        switch elements {
        case .float(let values): values
        case .int64(let values): values.map { Float($0) }
        }
    }

    /// The values as integers (floats truncated), for shape arithmetic.
    public var integers: [Int64] {
        switch elements {
        case .float(let values): values.map { Int64($0) }
        case .int64(let values): values
        }
    }

    public var isInteger: Bool {
        if case .int64 = elements { return true }
        return false
    }
}
