/// Per-feature mean and standard deviation from the training set; features become `(x - mean) / std`.
public struct Standardisation: Codable, Sendable, Equatable {
    public let mean: [Float]
    /// Never 0: a constant feature gets 1, so it standardises to 0 instead of dividing by zero.
    public let std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "Standardisation mean and std differ in length")
        self.mean = mean
        self.std = std
    }

    /// Mean and population standard deviation of every column, accumulated in Double.
    public init(computedFrom vectors: [Float], dimension: Int) {
        let count = vectors.count / dimension
        precondition(count > 0, "Standardisation needs at least one vector")
        var sum = [Double](repeating: 0, count: dimension)
        for row in 0..<count {
            for column in 0..<dimension { sum[column] += Double(vectors[row * dimension + column]) }
        }
        let mean = sum.map { $0 / Double(count) }
        var squares = [Double](repeating: 0, count: dimension)
        for row in 0..<count {
            for column in 0..<dimension {
                let d = Double(vectors[row * dimension + column]) - mean[column]
                squares[column] += d * d
            }
        }
        self.mean = mean.map { Float($0) }
        self.std = squares.map { sum in
            let std = Float((sum / Double(count)).squareRoot())
            return std > 1e-6 ? std : 1
        }
    }

    /// `(x - mean) / std` for every row of `vectors`.
    public func apply(to vectors: [Float]) -> [Float] {
        let dimension = mean.count
        var result = vectors
        for index in result.indices {
            let column = index % dimension
            result[index] = (result[index] - mean[column]) / std[column]
        }
        return result
    }
}
