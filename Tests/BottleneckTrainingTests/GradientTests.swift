import Foundation
import Testing
import BottleneckTraining

/// Analytic gradients against central finite differences of an independent Double implementation of the loss.
/// Tolerance: |analytic - numeric| <= 1e-4 + 1e-3 * |numeric| for every parameter.
struct GradientTests {
    private func check(shapes: [(Int, Int)], dropout: Bool) throws {
        var generator = SeededGenerator(seed: 42)
        let rowCount = 7
        let dimension = shapes[0].0
        let layers = shapes.map { shape in
            DenseLayer(inputCount: shape.0, outputCount: shape.1,
                       weights: (0..<shape.0 * shape.1).map { _ in generator.nextNormal() * 0.7 },
                       bias: (0..<shape.1).map { _ in generator.nextNormal() * 0.3 })
        }
        let inputs = (0..<rowCount * dimension).map { _ in generator.nextNormal() }
        let classCount = shapes.last!.1
        let labels = (0..<rowCount).map { $0 % classCount }
        let weights: [Float] = (0..<rowCount).map { Float(1 + $0 % 3) / 2 }
        let smoothing: Float = 0.1
        let l2: Float = 0.05
        let scale: [Float]? = dropout
            ? (0..<rowCount * shapes[0].1).map { _ in generator.nextUnitFloat() < 0.3 ? 0 : 1 / 0.7 } : nil

        let analytic = inputs.withUnsafeBufferPointer {
            HeadNetwork.lossAndGradients(layers: layers, inputs: $0.baseAddress!, rowCount: rowCount,
                                         labels: ArraySlice(labels), sampleWeights: weights,
                                         labelSmoothing: smoothing, l2: l2, dropoutScale: scale)
        }
        var parameters = layers.map { $0.weights.map(Double.init) }
        var biases = layers.map { $0.bias.map(Double.init) }
        func loss() -> Double {
            referenceLoss(layers: parameters, biases: biases, shapes: shapes, inputs: inputs.map(Double.init),
                          rowCount: rowCount, labels: labels, weights: weights.map(Double.init),
                          smoothing: Double(smoothing), l2: Double(l2), dropoutScale: scale?.map(Double.init))
        }
        #expect(abs(analytic.totalLoss - loss()) <= 1e-5 * abs(loss()))
        let h = 1e-6
        func close(_ a: Float, _ n: Double) -> Bool { abs(Double(a) - n) <= 1e-4 + 1e-3 * abs(n) }
        for layer in layers.indices {
            for index in parameters[layer].indices {
                let saved = parameters[layer][index]
                parameters[layer][index] = saved + h
                let plus = loss()
                parameters[layer][index] = saved - h
                let minus = loss()
                parameters[layer][index] = saved
                let numeric = (plus - minus) / (2 * h)
                #expect(close(analytic.gradients[layer].weights[index], numeric), "layer \(layer) weight \(index)")
            }
            for index in biases[layer].indices {
                let saved = biases[layer][index]
                biases[layer][index] = saved + h
                let plus = loss()
                biases[layer][index] = saved - h
                let minus = loss()
                biases[layer][index] = saved
                let numeric = (plus - minus) / (2 * h)
                #expect(close(analytic.gradients[layer].bias[index], numeric), "layer \(layer) bias \(index)")
            }
        }
    }

    @Test func softmaxHeadWithSmoothingWeightDecayAndClassWeights() throws {
        try check(shapes: [(5, 3)], dropout: false)
    }

    @Test func hiddenHead() throws {
        try check(shapes: [(5, 6), (6, 4)], dropout: false)
    }

    @Test func hiddenHeadWithFixedDropoutMask() throws {
        try check(shapes: [(5, 6), (6, 4)], dropout: true)
    }
}
