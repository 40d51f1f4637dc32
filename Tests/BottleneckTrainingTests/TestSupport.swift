import Foundation
import BottleneckTraining

/// Gaussian blobs: class `c` is centred at `separation` along axis `c` (mod dimension) plus `offset` on every axis
/// (so standardisation matters), unit noise.
func gaussianBlobs(classCount: Int, perClass: Int, dimension: Int, separation: Float, offset: Float = 3, seed: UInt64) throws -> TrainingData {
    var generator = SeededGenerator(seed: seed)
    var vectors: [Float] = []
    var labels: [Int] = []
    for index in 0..<(classCount * perClass) {
        let label = index % classCount
        for column in 0..<dimension {
            let centre: Float = column == label % dimension ? separation : 0
            vectors.append(centre + generator.nextNormal() + offset)
        }
        labels.append(label)
    }
    return try TrainingData(vectors: vectors, labels: labels, dimension: dimension, classCount: classCount)
}

/// The head's objective in Double: `sum(w_i * CE_i) / n + l2 / 2 * sum |W|^2`, with label smoothing and an
/// optional fixed dropout scale on the hidden activations. Written independently of the library's code.
func referenceLoss(layers: [[Double]], biases: [[Double]], shapes: [(Int, Int)], inputs: [Double], rowCount: Int,
                   labels: [Int], weights: [Double], smoothing: Double, l2: Double, dropoutScale: [Double]?) -> Double {
    var total = 0.0
    for row in 0..<rowCount {
        var activation = Array(inputs[row * shapes[0].0..<(row + 1) * shapes[0].0])
        for (index, (inCount, outCount)) in shapes.enumerated() {
            var next = biases[index]
            for o in 0..<outCount {
                for i in 0..<inCount { next[o] += activation[i] * layers[index][i * outCount + o] }
            }
            if index < shapes.count - 1 {
                next = next.enumerated().map { o, v in max(v, 0) * (dropoutScale?[row * outCount + o] ?? 1) }
            }
            activation = next
        }
        let classCount = activation.count
        let maximum = activation.max()!
        let logSumExp = maximum + log(activation.map { exp($0 - maximum) }.reduce(0, +))
        var rowLoss = 0.0
        for c in 0..<classCount {
            let target = (c == labels[row] ? 1 - smoothing : 0) + smoothing / Double(classCount)
            rowLoss += target * (logSumExp - activation[c])
        }
        total += weights[row] * rowLoss
    }
    var penalty = 0.0
    for layer in layers { penalty += layer.map { $0 * $0 }.reduce(0, +) }
    return total / Double(rowCount) + 0.5 * l2 * penalty
}
