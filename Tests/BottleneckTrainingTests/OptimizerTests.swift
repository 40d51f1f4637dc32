import Foundation
import Testing
import BottleneckTraining

/// Every optimizer on convex problems whose optimum is known.
struct OptimizerTests {
    /// `f(x) = 1/2 sum a_i (x_i - c_i)^2`, minimum at `c`, from `x = 0`. The learning rate decays geometrically so
    /// Adam's steps (about `lr` in size near the optimum) shrink too. Tolerance 1e-3 per coordinate.
    private func minimiseQuadratic(_ optimizer: TrainingConfiguration.Optimizer, learningRate: Float) -> [Float] {
        let curvature: [Float] = [0.5, 1, 2, 4]
        let optimum: [Float] = [1, -2, 3, 0.5]
        var state = OptimizerState(optimizer: optimizer, tensorSizes: [4], decoupledWeightDecay: 0)
        var x = [Float](repeating: 0, count: 4)
        for step in 0..<3000 {
            let gradient = (0..<4).map { curvature[$0] * (x[$0] - optimum[$0]) }
            state.beginStep()
            state.update(tensor: 0, values: &x, gradients: gradient,
                         learningRate: learningRate * Float(pow(0.997, Double(step))), decays: true)
        }
        return zip(x, optimum).map { abs($0 - $1) }
    }

    @Test(arguments: [
        (TrainingConfiguration.Optimizer.sgd(momentum: 0, nesterov: false), Float(0.2)),
        (.sgd(momentum: 0.9, nesterov: false), 0.05),
        (.sgd(momentum: 0.9, nesterov: true), 0.05),
        (.adam, 0.05),
        (.adamw, 0.05),
    ])
    func quadraticReachesKnownOptimum(optimizer: TrainingConfiguration.Optimizer, learningRate: Float) {
        let errors = minimiseQuadratic(optimizer, learningRate: learningRate)
        #expect(errors.allSatisfy { $0 < 1e-3 }, "\(optimizer): errors \(errors)")
    }

    /// With a zero gradient AdamW only shrinks the weights: `w *= 1 - lr * decay`, and leaves biases alone.
    @Test func adamWDecouplesWeightDecay() {
        var state = OptimizerState(optimizer: .adamw, tensorSizes: [2, 2], decoupledWeightDecay: 0.1)
        var weights: [Float] = [2, -4]
        var bias: [Float] = [2, -4]
        state.beginStep()
        state.update(tensor: 0, values: &weights, gradients: [0, 0], learningRate: 0.5, decays: true)
        state.update(tensor: 1, values: &bias, gradients: [0, 0], learningRate: 0.5, decays: false)
        #expect(weights == [2 * 0.95, -4 * 0.95])
        #expect(bias == [2, -4])
    }

    /// Softmax regression with L2 (strictly convex in the weights) trained full-batch by the Trainer reaches the
    /// optimum of a long Double gradient descent: objective within 1e-4, probabilities within 2e-3.
    @Test(arguments: [
        (TrainingConfiguration.Optimizer.sgd(momentum: 0.9, nesterov: false), Float(0.1)),
        (.sgd(momentum: 0.9, nesterov: true), 0.1),
        (.adam, 0.05),
    ])
    func trainerReachesSoftmaxRegressionOptimum(optimizer: TrainingConfiguration.Optimizer, learningRate: Float) throws {
        let data = try gaussianBlobs(classCount: 3, perClass: 20, dimension: 3, separation: 1.5, offset: 0, seed: 7)
        let l2 = 0.05
        let configuration = TrainingConfiguration(
            epochs: 1500, batchSize: data.count, optimizer: optimizer, learningRate: learningRate,
            schedule: .cosine(warmupEpochs: 0), weightDecay: Float(l2), seed: 1, standardize: false)
        let head = try Trainer.train(data, configuration: configuration).head

        // Reference: plain full-batch gradient descent in Double.
        let (n, d, k) = (data.count, data.dimension, data.classCount)
        let x = data.vectors.map(Double.init)
        var w = [Double](repeating: 0, count: d * k)
        var b = [Double](repeating: 0, count: k)
        func probabilities(_ w: [Double], _ b: [Double]) -> [Double] {
            var p = [Double](repeating: 0, count: n * k)
            for i in 0..<n {
                var z = b
                for c in 0..<k { for j in 0..<d { z[c] += x[i * d + j] * w[j * k + c] } }
                let m = z.max()!
                let e = z.map { exp($0 - m) }
                let s = e.reduce(0, +)
                for c in 0..<k { p[i * k + c] = e[c] / s }
            }
            return p
        }
        func objective(_ p: [Double], _ w: [Double]) -> Double {
            var loss = 0.0
            for i in 0..<n { loss -= log(p[i * k + data.labels[i]]) }
            return loss / Double(n) + 0.5 * l2 * w.map { $0 * $0 }.reduce(0, +)
        }
        for _ in 0..<20000 {
            let p = probabilities(w, b)
            var gw = w.map { l2 * $0 }
            var gb = [Double](repeating: 0, count: k)
            for i in 0..<n {
                for c in 0..<k {
                    let delta = (p[i * k + c] - (c == data.labels[i] ? 1 : 0)) / Double(n)
                    gb[c] += delta
                    for j in 0..<d { gw[j * k + c] += delta * x[i * d + j] }
                }
            }
            for index in w.indices { w[index] -= 0.5 * gw[index] }
            for index in b.indices { b[index] -= 0.5 * gb[index] }
        }
        let reference = probabilities(w, b)
        let trainedWeights = head.layers[0].weights.map(Double.init)
        let trained = probabilities(trainedWeights, head.layers[0].bias.map(Double.init))
        let gap = objective(trained, trainedWeights) - objective(reference, w)
        #expect(gap >= -1e-6 && gap < 1e-4, "\(optimizer): objective gap \(gap)")
        let worst = zip(trained, reference).map { abs($0 - $1) }.max()!
        #expect(worst < 2e-3, "\(optimizer): largest probability difference \(worst)")
    }
}
