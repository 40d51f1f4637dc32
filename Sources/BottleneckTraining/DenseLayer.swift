import BottleneckEngine

/// A fully connected layer: `output[rows x outputCount] = input[rows x inputCount] * weights + bias`.
public struct DenseLayer: Codable, Sendable, Equatable {
    public let inputCount: Int
    public let outputCount: Int
    /// Row-major `[inputCount x outputCount]` (ONNX Gemm with `transB = 0`).
    public var weights: [Float]
    /// `outputCount` values.
    public var bias: [Float]

    public init(inputCount: Int, outputCount: Int, weights: [Float], bias: [Float]) {
        precondition(weights.count == inputCount * outputCount && bias.count == outputCount,
                     "DenseLayer weights/bias do not match \(inputCount) x \(outputCount)")
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.bias = bias
    }

    /// A layer of zeros.
    public init(inputCount: Int, outputCount: Int) {
        self.init(inputCount: inputCount, outputCount: outputCount,
                  weights: [Float](repeating: 0, count: inputCount * outputCount),
                  bias: [Float](repeating: 0, count: outputCount))
    }

    /// `input * weights + bias` for `rowCount` rows, through BLAS.
    func apply(to input: UnsafePointer<Float>, rowCount: Int) -> [Float] {
        var output = [Float](repeating: 0, count: rowCount * outputCount)
        output.withUnsafeMutableBufferPointer { out in
            for row in 0..<rowCount {
                for column in 0..<outputCount { out[row * outputCount + column] = bias[column] }
            }
            weights.withUnsafeBufferPointer { w in
                BLAS.multiply(m: rowCount, n: outputCount, k: inputCount, a: input, lda: inputCount,
                              b: w.baseAddress!, ldb: outputCount, c: out.baseAddress!, ldc: outputCount, beta: 1)
            }
        }
        return output
    }
}
