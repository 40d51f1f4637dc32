/// A dense float32 tensor in row-major order of its (ONNX, logical) shape, e.g. `[N, 1280]` features.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// The values of item `index` along the first (batch) axis.
    public func item(_ index: Int) -> ArraySlice<Float> {
        let size = values.count / max(shape.first ?? 1, 1)
        return values[(index * size)..<((index + 1) * size)]
    }
}
