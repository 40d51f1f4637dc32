import BottleneckEngine
import Foundation

/// Forward and backward passes of a head (one dense layer, or dense–ReLU–dropout–dense) over a mini-batch.
///
/// Softmax and cross-entropy are fused: the loss is `logsumexp(z) - sum(q * z)` with the max subtracted before
/// exponentiating, and its gradient with respect to the logits is `p - q`.
package enum HeadNetwork {
    /// The loss of one mini-batch and the gradients of every layer.
    package struct BatchResult {
        /// `sum(weight_i * crossEntropy_i) / rowCount`, without the L2 term.
        package var dataLoss: Double
        /// `dataLoss + l2 / 2 * sum(|W|^2)`: the objective the gradients belong to.
        package var totalLoss: Double
        /// Rows whose largest logit is their label.
        package var correctCount: Int
        /// Same shapes as the layers.
        package var gradients: [DenseLayer]
    }

    /// Logits for `rowCount` rows (no dropout).
    package static func logits(layers: [DenseLayer], inputs: UnsafePointer<Float>, rowCount: Int) -> [Float] {
        var activations = layers[0].apply(to: inputs, rowCount: rowCount)
        for layer in layers.dropFirst() {
            relu(&activations)
            activations = activations.withUnsafeBufferPointer {
                layer.apply(to: $0.baseAddress!, rowCount: rowCount)
            }
        }
        return activations
    }

    /// Replaces every row of logits by its softmax, in place.
    package static func softmaxRows(_ values: inout [Float], columns: Int) {
        let rows = values.count / columns
        for row in 0..<rows {
            let base = row * columns
            let logSumExp = logSumExp(values, base: base, columns: columns)
            for column in 0..<columns {
                values[base + column] = Float(exp(Double(values[base + column]) - logSumExp))
            }
        }
    }

    /// Mean cross-entropy (unweighted, unsmoothed) and the number of correct rows, evaluated in batches.
    package static func evaluate(layers: [DenseLayer], vectors: [Float], labels: [Int]) -> (loss: Double, correct: Int) {
        let dimension = layers[0].inputCount
        let classCount = layers[layers.count - 1].outputCount
        let batch = 1024
        var loss = 0.0
        var correct = 0
        vectors.withUnsafeBufferPointer { input in
            for start in stride(from: 0, to: labels.count, by: batch) {
                let rows = min(batch, labels.count - start)
                let z = logits(layers: layers, inputs: input.baseAddress! + start * dimension, rowCount: rows)
                for row in 0..<rows {
                    let label = labels[start + row]
                    let base = row * classCount
                    loss += logSumExp(z, base: base, columns: classCount) - Double(z[base + label])
                    if argmax(z, base: base, columns: classCount) == label { correct += 1 }
                }
            }
        }
        return (loss / Double(max(labels.count, 1)), correct)
    }

    /// Loss and gradients for one mini-batch.
    /// - Parameters:
    ///   - sampleWeights: one weight per row (class weights).
    ///   - l2: L2 coefficient on the weights (not biases); 0 when weight decay is decoupled.
    ///   - dropoutScale: for hidden heads, one factor per hidden activation (`0` dropped, `1/(1-p)` kept), or nil.
    package static func lossAndGradients(
        layers: [DenseLayer], inputs: UnsafePointer<Float>, rowCount: Int, labels: ArraySlice<Int>,
        sampleWeights: [Float], labelSmoothing: Float, l2: Float, dropoutScale: [Float]?
    ) -> BatchResult {
        precondition(layers.count == 1 || layers.count == 2, "a head has one or two layers")
        precondition(labels.count == rowCount && sampleWeights.count == rowCount, "one label and weight per row")
        let output = layers[layers.count - 1]
        let classCount = output.outputCount

        // Forward.
        var hidden: [Float] = []
        var z: [Float]
        if layers.count == 2 {
            hidden = layers[0].apply(to: inputs, rowCount: rowCount)
            relu(&hidden)
            if let dropoutScale {
                for index in hidden.indices { hidden[index] *= dropoutScale[index] }
            }
            z = hidden.withUnsafeBufferPointer { output.apply(to: $0.baseAddress!, rowCount: rowCount) }
        } else {
            z = output.apply(to: inputs, rowCount: rowCount)
        }

        // Fused softmax cross-entropy; z becomes dLoss/dz.
        let offTarget = Double(labelSmoothing) / Double(classCount)
        let onTarget = 1 - Double(labelSmoothing) + offTarget
        var dataLoss = 0.0
        var correct = 0
        for (row, label) in labels.enumerated() {
            let base = row * classCount
            if argmax(z, base: base, columns: classCount) == label { correct += 1 }
            let logSumExp = logSumExp(z, base: base, columns: classCount)
            let weight = Double(sampleWeights[row])
            var rowLoss = 0.0
            for column in 0..<classCount {
                let target = column == label ? onTarget : offTarget
                let logit = Double(z[base + column])
                rowLoss += target * (logSumExp - logit)
                z[base + column] = Float((exp(logit - logSumExp) - target) * weight / Double(rowCount))
            }
            dataLoss += weight * rowLoss
        }
        dataLoss /= Double(rowCount)

        // Backward.
        var gradients = layers.map { DenseLayer(inputCount: $0.inputCount, outputCount: $0.outputCount) }
        let last = layers.count - 1
        if layers.count == 2 {
            hidden.withUnsafeBufferPointer { h in
                accumulate(into: &gradients[last], input: h.baseAddress!, delta: z, rowCount: rowCount)
            }
            var delta = [Float](repeating: 0, count: rowCount * layers[0].outputCount)
            z.withUnsafeBufferPointer { dz in
                output.weights.withUnsafeBufferPointer { w in
                    delta.withUnsafeMutableBufferPointer { d in
                        BLAS.multiplyTransposedB(m: rowCount, n: output.inputCount, k: classCount,
                                                 a: dz.baseAddress!, lda: classCount, b: w.baseAddress!,
                                                 ldb: classCount, c: d.baseAddress!, ldc: output.inputCount)
                    }
                }
            }
            // `hidden` holds relu(a) * scale, so it is positive exactly where the unit was active and kept.
            for index in delta.indices {
                delta[index] = hidden[index] > 0 ? delta[index] * (dropoutScale?[index] ?? 1) : 0
            }
            accumulate(into: &gradients[0], input: inputs, delta: delta, rowCount: rowCount)
        } else {
            accumulate(into: &gradients[0], input: inputs, delta: z, rowCount: rowCount)
        }

        var penalty = 0.0
        if l2 > 0 {
            for index in layers.indices {
                var squares = 0.0
                for (position, weight) in layers[index].weights.enumerated() {
                    squares += Double(weight) * Double(weight)
                    gradients[index].weights[position] += l2 * weight
                }
                penalty += 0.5 * Double(l2) * squares
            }
        }
        return BatchResult(dataLoss: dataLoss, totalLoss: dataLoss + penalty, correctCount: correct,
                           gradients: gradients)
    }

    /// `gradient.weights = input^T * delta`, `gradient.bias = column sums of delta` (Double accumulation).
    private static func accumulate(into gradient: inout DenseLayer, input: UnsafePointer<Float>, delta: [Float],
                                   rowCount: Int) {
        let inputCount = gradient.inputCount
        let outputCount = gradient.outputCount
        delta.withUnsafeBufferPointer { d in
            gradient.weights.withUnsafeMutableBufferPointer { g in
                BLAS.multiplyTransposedA(m: inputCount, n: outputCount, k: rowCount, a: input, lda: inputCount,
                                         b: d.baseAddress!, ldb: outputCount, c: g.baseAddress!, ldc: outputCount)
            }
        }
        var sums = [Double](repeating: 0, count: outputCount)
        for row in 0..<rowCount {
            for column in 0..<outputCount { sums[column] += Double(delta[row * outputCount + column]) }
        }
        gradient.bias = sums.map { Float($0) }
    }

    private static func relu(_ values: inout [Float]) {
        for index in values.indices where !(values[index] > 0) { values[index] = 0 }
    }

    private static func logSumExp(_ values: [Float], base: Int, columns: Int) -> Double {
        var maximum = values[base]
        for column in 1..<max(columns, 1) { maximum = max(maximum, values[base + column]) }
        var sum = 0.0
        for column in 0..<columns { sum += exp(Double(values[base + column] - maximum)) }
        return Double(maximum) + log(sum)
    }

    private static func argmax(_ values: [Float], base: Int, columns: Int) -> Int {
        var best = 0
        for column in 1..<max(columns, 1) where values[base + column] > values[base + best] { best = column }
        return best
    }
}
