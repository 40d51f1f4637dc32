import Foundation

/// A trained head: optional standardisation, then one dense layer (softmax regression) or dense–ReLU–dense,
/// then softmax. Saved as JSON (floats round-trip exactly).
public struct Head: Codable, Sendable, Equatable {
    /// Class names, indexed by output column.
    public let classNames: [String]
    /// Applied to vectors before the first layer; nil when training ran with `standardize: false`.
    public let standardisation: Standardisation?
    /// One layer (softmax regression) or two with a ReLU between them (hidden head).
    public let layers: [DenseLayer]

    public init(classNames: [String], standardisation: Standardisation?, layers: [DenseLayer]) {
        precondition(layers.count == 1 || layers.count == 2, "a head has one or two layers")
        precondition(layers.last!.outputCount == classNames.count, "one output per class")
        precondition(standardisation.map { $0.mean.count == layers[0].inputCount } ?? true,
                     "standardisation and first layer differ in dimension")
        self.classNames = classNames
        self.standardisation = standardisation
        self.layers = layers
    }

    /// Floats per input vector.
    public var dimension: Int { layers[0].inputCount }
    public var classCount: Int { classNames.count }

    /// Class probabilities, row-major `[count x classCount]`, for row-major `[count x dimension]` vectors.
    public func scores(for vectors: [Float]) -> [Float] {
        precondition(vectors.count % dimension == 0, "vectors must hold whole rows of \(dimension) floats")
        let rowCount = vectors.count / dimension
        let input = standardisation?.apply(to: vectors) ?? vectors
        var result = [Float]()
        result.reserveCapacity(rowCount * classCount)
        let batch = 1024
        input.withUnsafeBufferPointer { pointer in
            for start in stride(from: 0, to: rowCount, by: batch) {
                let rows = min(batch, rowCount - start)
                var probabilities = HeadNetwork.logits(layers: layers, inputs: pointer.baseAddress! + start * dimension,
                                                       rowCount: rows)
                HeadNetwork.softmaxRows(&probabilities, columns: classCount)
                result += probabilities
            }
        }
        return result
    }

    /// An equivalent head without standardisation: the first layer absorbs it as `W' = W / std` (per input row)
    /// and `b' = b - sum_d (mean_d / std_d) * W[d]` (accumulated in Double). For a softmax head this is the single
    /// Gemm the ONNX export writes.
    public func foldedStandardisation() -> Head {
        guard let standardisation else { return self }
        let first = layers[0]
        var weights = first.weights
        var bias = first.bias.map(Double.init)
        for row in 0..<first.inputCount {
            let scale = 1 / standardisation.std[row]
            let shift = Double(standardisation.mean[row]) / Double(standardisation.std[row])
            for column in 0..<first.outputCount {
                let weight = first.weights[row * first.outputCount + column]
                weights[row * first.outputCount + column] = weight * scale
                bias[column] -= shift * Double(weight)
            }
        }
        let folded = DenseLayer(inputCount: first.inputCount, outputCount: first.outputCount, weights: weights,
                                bias: bias.map { Float($0) })
        return Head(classNames: classNames, standardisation: nil, layers: [folded] + layers.dropFirst())
    }

    /// Writes the head as JSON.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    /// Reads a head written by `write(to:)`.
    /// - Throws: `TrainingError(.unreadableHead)` saying which file and why.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TrainingError(.unreadableHead, "Cannot read the head file \(url.path): \(error.localizedDescription)")
        }
        do {
            self = try JSONDecoder().decode(Head.self, from: data)
        } catch {
            throw TrainingError(.unreadableHead, """
                \(url.path) is not a head written by this version (\(error)); retrain the head or pass the right file.
                """)
        }
        guard layers.count == 1 || layers.count == 2, layers.last?.outputCount == classNames.count,
              zip(layers, layers.dropFirst()).allSatisfy({ $0.outputCount == $1.inputCount }),
              layers.allSatisfy({ $0.weights.count == $0.inputCount * $0.outputCount && $0.bias.count == $0.outputCount }),
              standardisation.map({ $0.mean.count == layers[0].inputCount && $0.std.count == $0.mean.count }) ?? true
        else {
            throw TrainingError(.unreadableHead, "\(url.path) has inconsistent layer shapes; the file is damaged, retrain the head.")
        }
    }
}
