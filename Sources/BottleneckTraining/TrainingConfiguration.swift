import Foundation

/// Everything that controls how a head is trained. Every field has a default, so `TrainingConfiguration()` is a
/// sensible start and a config file only needs the values it changes. Keys are snake_case when encoded.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// The shape of the head put on top of the bottleneck vectors.
    public enum HeadKind: Codable, Sendable, Equatable {
        /// Softmax (multinomial logistic) regression: one dense layer. Convex, the usual choice.
        case softmax
        /// One hidden dense layer of `units` ReLUs with inverted dropout of probability `dropout` in `[0, 1)`.
        case hidden(units: Int, dropout: Float)
    }

    /// The update rule.
    public enum Optimizer: Codable, Sendable, Equatable {
        /// Stochastic gradient descent with heavy-ball `momentum` (PyTorch form), optionally Nesterov.
        case sgd(momentum: Float, nesterov: Bool)
        /// Adam (beta1 0.9, beta2 0.999, epsilon 1e-8); weight decay is an L2 term in the loss.
        case adam
        /// AdamW: Adam with weight decay decoupled from the gradient (`w -= lr * decay * w`).
        case adamw
    }

    /// How the learning rate changes from epoch to epoch (epochs counted from 0 here).
    public enum Schedule: Codable, Sendable, Equatable {
        /// The base learning rate every epoch.
        case constant
        /// `base * factor^(epoch / every)` (integer division).
        case step(every: Int, factor: Float)
        /// Linear warm-up `base * (epoch + 1) / warmupEpochs` for the first `warmupEpochs` epochs, then
        /// `base * (1 + cos(pi * (epoch - warmupEpochs) / (epochs - warmupEpochs))) / 2`.
        /// With `warmupEpochs >= epochs` the whole run is warm-up.
        case cosine(warmupEpochs: Int)

        private enum CosineCodingKeys: String, CodingKey {
            case warmupEpochs = "warmup_epochs"
        }
    }

    /// How much each class's examples count in the training loss.
    public enum ClassWeights: Codable, Sendable, Equatable {
        /// Every example counts 1.
        case none
        /// Class `c` counts `count / (classCount * count(c))`, so every class carries the same total weight.
        case balanced
        /// Weights by class name; classes not listed count 1.
        case explicit([String: Float])
    }

    /// The head shape. Default `.softmax`.
    public var head: HeadKind
    /// Passes over the training data. Default 30.
    public var epochs: Int
    /// Examples per gradient step. Default 256.
    public var batchSize: Int
    /// Default `.adamw`.
    public var optimizer: Optimizer
    /// Base learning rate. Default 0.001 (suits Adam/AdamW on standardised features; SGD wants about 0.1).
    public var learningRate: Float
    /// Default `.cosine(warmupEpochs: 2)`.
    public var schedule: Schedule
    /// Label smoothing epsilon in `[0, 1)`: targets become `(1 - eps) * onehot + eps / classCount`. Default 0.
    public var labelSmoothing: Float
    /// Weight decay on the weights (not biases): an L2 term `decay / 2 * |W|^2` in the loss for SGD and Adam,
    /// decoupled for AdamW. Default 1e-4.
    public var weightDecay: Float
    /// Default `.none`.
    public var classWeights: ClassWeights
    /// Stop after this many epochs without a lower validation loss; `nil` (default) trains every epoch.
    /// Needs validation data.
    public var earlyStoppingPatience: Int?
    /// Fixes shuffling, initial weights and dropout: two runs with the same seed are bit-identical. Default 0.
    public var seed: UInt64
    /// Standardise features with the training mean and standard deviation (stored in the head). Default true.
    public var standardize: Bool

    public init(
        head: HeadKind = .softmax, epochs: Int = 30, batchSize: Int = 256, optimizer: Optimizer = .adamw,
        learningRate: Float = 0.001, schedule: Schedule = .cosine(warmupEpochs: 2), labelSmoothing: Float = 0,
        weightDecay: Float = 1e-4, classWeights: ClassWeights = .none, earlyStoppingPatience: Int? = nil,
        seed: UInt64 = 0, standardize: Bool = true
    ) {
        self.head = head
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.schedule = schedule
        self.labelSmoothing = labelSmoothing
        self.weightDecay = weightDecay
        self.classWeights = classWeights
        self.earlyStoppingPatience = earlyStoppingPatience
        self.seed = seed
        self.standardize = standardize
    }

    private enum CodingKeys: String, CodingKey {
        case head, epochs, optimizer, schedule, seed, standardize
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case labelSmoothing = "label_smoothing"
        case weightDecay = "weight_decay"
        case classWeights = "class_weights"
        case earlyStoppingPatience = "early_stopping_patience"
    }

    /// Decodes the keys present and takes the default for every missing one.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TrainingConfiguration()
        head = try container.decodeIfPresent(HeadKind.self, forKey: .head) ?? defaults.head
        epochs = try container.decodeIfPresent(Int.self, forKey: .epochs) ?? defaults.epochs
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? defaults.batchSize
        optimizer = try container.decodeIfPresent(Optimizer.self, forKey: .optimizer) ?? defaults.optimizer
        learningRate = try container.decodeIfPresent(Float.self, forKey: .learningRate) ?? defaults.learningRate
        schedule = try container.decodeIfPresent(Schedule.self, forKey: .schedule) ?? defaults.schedule
        labelSmoothing = try container.decodeIfPresent(Float.self, forKey: .labelSmoothing) ?? defaults.labelSmoothing
        weightDecay = try container.decodeIfPresent(Float.self, forKey: .weightDecay) ?? defaults.weightDecay
        classWeights = try container.decodeIfPresent(ClassWeights.self, forKey: .classWeights) ?? defaults.classWeights
        earlyStoppingPatience = try container.decodeIfPresent(Int.self, forKey: .earlyStoppingPatience)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed
        standardize = try container.decodeIfPresent(Bool.self, forKey: .standardize) ?? defaults.standardize
    }

    /// The learning rate used during `epoch` (counted from 0).
    public func learningRate(atEpoch epoch: Int) -> Float {
        switch schedule {
        case .constant:
            return learningRate
        case .step(let every, let factor):
            return learningRate * Float(pow(Double(factor), Double(epoch / every)))
        case .cosine(let warmupEpochs):
            if epoch < warmupEpochs {
                return learningRate * Float(epoch + 1) / Float(warmupEpochs)
            }
            let progress = Double(epoch - warmupEpochs) / Double(max(epochs - warmupEpochs, 1))
            return Float(Double(learningRate) * (1 + cos(Double.pi * progress)) / 2)
        }
    }

    /// Throws `invalidConfiguration` naming the first value out of range.
    public func validate() throws {
        func fail(_ message: String) -> TrainingError { TrainingError(.invalidConfiguration, message) }
        if epochs < 1 { throw fail("epochs is \(epochs); set it to 1 or more.") }
        if batchSize < 1 { throw fail("batch_size is \(batchSize); set it to 1 or more.") }
        if !(learningRate > 0) || !learningRate.isFinite {
            throw fail("learning_rate is \(learningRate); set a positive finite value such as 0.001.")
        }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) {
            throw fail("label_smoothing is \(labelSmoothing); it must be in [0, 1), typically 0 or 0.1.")
        }
        if !(weightDecay >= 0) || !weightDecay.isFinite {
            throw fail("weight_decay is \(weightDecay); set 0 or a small positive value such as 1e-4.")
        }
        if let patience = earlyStoppingPatience, patience < 1 {
            throw fail("early_stopping_patience is \(patience); set 1 or more, or leave it out to train every epoch.")
        }
        if case .hidden(let units, let dropout) = head {
            if units < 1 { throw fail("the hidden head has \(units) units; set 1 or more.") }
            if !(dropout >= 0 && dropout < 1) { throw fail("dropout is \(dropout); it must be in [0, 1).") }
        }
        if case .sgd(let momentum, _) = optimizer, !(momentum >= 0 && momentum < 1) {
            throw fail("SGD momentum is \(momentum); it must be in [0, 1), typically 0.9.")
        }
        switch schedule {
        case .constant:
            break
        case .step(let every, let factor):
            if every < 1 { throw fail("the step schedule's every is \(every); set 1 or more epochs.") }
            if !(factor > 0 && factor <= 1) { throw fail("the step schedule's factor is \(factor); it must be in (0, 1].") }
        case .cosine(let warmupEpochs):
            if warmupEpochs < 0 { throw fail("warmup_epochs is \(warmupEpochs); set 0 or more.") }
        }
        if case .explicit(let weights) = classWeights {
            for (name, weight) in weights.sorted(by: { $0.key < $1.key }) where !(weight >= 0) || !weight.isFinite {
                throw fail("the class weight of '\(name)' is \(weight); class weights must be finite and 0 or more.")
            }
        }
    }
}
