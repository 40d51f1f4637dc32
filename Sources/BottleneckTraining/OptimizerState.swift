import Foundation

/// The per-parameter state of an optimizer (momentum buffers, Adam moments) and its update rule.
///
/// Parameters come as a list of tensors (flat `[Float]`); each tensor has its own buffers. Call `beginStep()`
/// once per mini-batch, then `update` for every tensor.
package struct OptimizerState: Sendable {
    private let optimizer: TrainingConfiguration.Optimizer
    private let decoupledWeightDecay: Float
    private var first: [[Float]]
    private var second: [[Float]]
    private var step = 0

    private static let beta1: Float = 0.9
    private static let beta2: Float = 0.999
    private static let epsilon: Float = 1e-8

    /// - Parameters:
    ///   - tensorSizes: element count of every parameter tensor.
    ///   - decoupledWeightDecay: applied as `w -= lr * decay * w` by AdamW to tensors updated with `decays`.
    package init(optimizer: TrainingConfiguration.Optimizer, tensorSizes: [Int], decoupledWeightDecay: Float) {
        self.optimizer = optimizer
        self.decoupledWeightDecay = decoupledWeightDecay
        first = tensorSizes.map { [Float](repeating: 0, count: $0) }
        if case .sgd = optimizer {
            second = []
        } else {
            second = tensorSizes.map { [Float](repeating: 0, count: $0) }
        }
    }

    /// Advances the step counter used by Adam's bias correction.
    package mutating func beginStep() {
        step += 1
    }

    /// Applies one update to tensor `tensor`.
    /// - Parameter decays: whether decoupled weight decay applies (weights yes, biases no).
    package mutating func update(tensor: Int, values: inout [Float], gradients: [Float], learningRate: Float,
                                 decays: Bool) {
        precondition(values.count == gradients.count && values.count == first[tensor].count,
                     "parameter and gradient sizes differ")
        switch optimizer {
        case .sgd(let momentum, let nesterov):
            first[tensor].withUnsafeMutableBufferPointer { velocity in
                for index in values.indices {
                    let gradient = gradients[index]
                    velocity[index] = momentum * velocity[index] + gradient
                    let direction = nesterov ? gradient + momentum * velocity[index] : velocity[index]
                    values[index] -= learningRate * direction
                }
            }
        case .adam, .adamw:
            if case .adamw = optimizer, decays, decoupledWeightDecay > 0 {
                let shrink = 1 - learningRate * decoupledWeightDecay
                for index in values.indices { values[index] *= shrink }
            }
            let beta1 = Self.beta1, beta2 = Self.beta2, epsilon = Self.epsilon
            let correction1 = 1 - Float(pow(Double(beta1), Double(step)))
            let correction2 = 1 - Float(pow(Double(beta2), Double(step)))
            first[tensor].withUnsafeMutableBufferPointer { m in
                second[tensor].withUnsafeMutableBufferPointer { v in
                    for index in values.indices {
                        let gradient = gradients[index]
                        m[index] = beta1 * m[index] + (1 - beta1) * gradient
                        v[index] = beta2 * v[index] + (1 - beta2) * gradient * gradient
                        let mHat = m[index] / correction1
                        let vHat = v[index] / correction2
                        values[index] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
                    }
                }
            }
        }
    }
}
