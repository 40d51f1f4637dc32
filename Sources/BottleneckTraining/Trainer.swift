import BottleneckEngine
import Foundation

/// Trains a head on bottleneck vectors with mini-batch gradient descent (forward and backward through BLAS).
public enum Trainer {
    /// Trains a head.
    ///
    /// Every epoch shuffles the training rows with the seeded generator, takes one optimizer step per mini-batch
    /// at the schedule's learning rate, then measures the validation data (if any). With validation data the
    /// result holds the epoch of lowest validation loss; with `earlyStoppingPatience` training stops after that
    /// many epochs without improvement.
    /// - Throws: `TrainingError` for empty data, a class without training examples, mismatched validation data,
    ///   bad configuration values or a diverging loss.
    public static func train(
        _ data: TrainingData, validation: TrainingData? = nil, configuration: TrainingConfiguration,
        progress: (EpochMetrics) -> Void = { _ in }
    ) throws -> TrainingResult {
        try configuration.validate()
        try check(data, validation: validation, configuration: configuration)
        BLAS.useCallingThreadOnly()

        let standardisation = configuration.standardize
            ? Standardisation(computedFrom: data.vectors, dimension: data.dimension) : nil
        let inputs = standardisation?.apply(to: data.vectors) ?? data.vectors
        let validationInputs = validation.map { standardisation?.apply(to: $0.vectors) ?? $0.vectors }
        let exampleWeights = try classWeights(for: data, configuration.classWeights).map { weight in
            data.labels.map { weight[$0] }
        } ?? [Float](repeating: 1, count: data.count)

        var generator = SeededGenerator(seed: configuration.seed)
        var layers = initialLayers(configuration.head, dimension: data.dimension, classCount: data.classCount,
                                   generator: &generator)
        let isAdamW = configuration.optimizer == .adamw
        var optimizer = OptimizerState(optimizer: configuration.optimizer,
                                       tensorSizes: layers.flatMap { [$0.weights.count, $0.bias.count] },
                                       decoupledWeightDecay: isAdamW ? configuration.weightDecay : 0)
        let l2 = isAdamW ? 0 : configuration.weightDecay
        let dropout: Float = if case .hidden(_, let rate) = configuration.head { rate } else { 0 }

        var order = Array(0..<data.count)
        var metrics: [EpochMetrics] = []
        var best: (loss: Double, layers: [DenseLayer], epoch: Int)?
        var stoppedEarly = false
        let clock = ContinuousClock()

        for epoch in 0..<configuration.epochs {
            let started = clock.now
            let learningRate = configuration.learningRate(atEpoch: epoch)
            generator.shuffle(&order)
            var lossSum = 0.0
            var correct = 0
            for start in stride(from: 0, to: data.count, by: configuration.batchSize) {
                let rows = order[start..<min(start + configuration.batchSize, data.count)]
                var batch = [Float]()
                batch.reserveCapacity(rows.count * data.dimension)
                for row in rows { batch += inputs[row * data.dimension..<(row + 1) * data.dimension] }
                var dropoutScale: [Float]?
                if dropout > 0 {
                    let keep = 1 / (1 - dropout)
                    dropoutScale = (0..<rows.count * layers[0].outputCount).map { _ in
                        generator.nextUnitFloat() < dropout ? 0 : keep
                    }
                }
                let result = batch.withUnsafeBufferPointer {
                    HeadNetwork.lossAndGradients(
                        layers: layers, inputs: $0.baseAddress!, rowCount: rows.count,
                        labels: ArraySlice(rows.map { data.labels[$0] }), sampleWeights: rows.map { exampleWeights[$0] },
                        labelSmoothing: configuration.labelSmoothing, l2: l2, dropoutScale: dropoutScale)
                }
                lossSum += result.dataLoss * Double(rows.count)
                correct += result.correctCount
                optimizer.beginStep()
                for index in layers.indices {
                    optimizer.update(tensor: 2 * index, values: &layers[index].weights,
                                     gradients: result.gradients[index].weights, learningRate: learningRate, decays: true)
                    optimizer.update(tensor: 2 * index + 1, values: &layers[index].bias,
                                     gradients: result.gradients[index].bias, learningRate: learningRate, decays: false)
                }
            }
            let trainLoss = lossSum / Double(data.count)
            guard trainLoss.isFinite, layers.allSatisfy({ $0.weights.allSatisfy(\.isFinite) }) else {
                throw TrainingError(.diverged, """
                    The training loss became \(trainLoss) in epoch \(epoch + 1) at learning rate \(learningRate); \
                    lower learning_rate (for example by 10x) or keep standardize on.
                    """)
            }
            var entry = EpochMetrics(epoch: epoch + 1, trainLoss: trainLoss,
                                     trainAccuracy: Double(correct) / Double(data.count), validationLoss: nil,
                                     validationAccuracy: nil, learningRate: learningRate, seconds: 0)
            if let validation, let validationInputs {
                let measured = HeadNetwork.evaluate(layers: layers, vectors: validationInputs, labels: validation.labels)
                entry.validationLoss = measured.loss
                entry.validationAccuracy = Double(measured.correct) / Double(validation.count)
                if best.map({ measured.loss < $0.loss }) ?? true {
                    best = (measured.loss, layers, epoch + 1)
                }
            }
            entry.seconds = (clock.now - started) / .seconds(1)
            metrics.append(entry)
            progress(entry)
            if let patience = configuration.earlyStoppingPatience, let best, epoch + 1 - best.epoch >= patience,
               epoch + 1 < configuration.epochs {
                stoppedEarly = true
                break
            }
        }
        let head = Head(classNames: data.classNames, standardisation: standardisation, layers: best?.layers ?? layers)
        return TrainingResult(head: head, metrics: metrics, bestEpoch: best?.epoch ?? metrics.count,
                              stoppedEarly: stoppedEarly)
    }

    /// Per-class loss weights, or nil for `.none`.
    /// - Throws: `invalidConfiguration` when an explicit weight names a class the data does not have.
    public static func classWeights(for data: TrainingData, _ weights: TrainingConfiguration.ClassWeights) throws -> [Float]? {
        switch weights {
        case .none:
            return nil
        case .balanced:
            let counts = data.classCounts
            return counts.map { Float(Double(data.count) / (Double(data.classCount) * Double(max($0, 1)))) }
        case .explicit(let byName):
            var result = [Float](repeating: 1, count: data.classCount)
            for (name, weight) in byName.sorted(by: { $0.key < $1.key }) {
                guard let index = data.classNames.firstIndex(of: name) else {
                    throw TrainingError(.invalidConfiguration, """
                        class_weights names '\(name)', which is not a class (classes: \
                        \(data.classNames.joined(separator: ", "))); fix the name or remove it.
                        """)
                }
                result[index] = weight
            }
            return result
        }
    }

    private static func check(_ data: TrainingData, validation: TrainingData?,
                              configuration: TrainingConfiguration) throws {
        guard data.count > 0 else {
            throw TrainingError(.emptyData, "There are no training examples; extract features for the training split first.")
        }
        for (label, count) in data.classCounts.enumerated() where count == 0 {
            throw TrainingError(.classWithoutExamples, """
                Class '\(data.classNames[label])' has no training images; add images to it or remove the class \
                from the dataset.
                """)
        }
        if let validation {
            guard validation.count > 0 else {
                throw TrainingError(.emptyData, "The validation data is empty; pass nil instead, or give it examples.")
            }
            guard validation.dimension == data.dimension else {
                throw TrainingError(.shapeMismatch, """
                    Validation vectors have dimension \(validation.dimension) but training vectors have \
                    \(data.dimension); extract both with the same backbone.
                    """)
            }
            guard validation.classNames == data.classNames else {
                throw TrainingError(.shapeMismatch, """
                    Validation classes (\(validation.classNames.joined(separator: ", "))) differ from training \
                    classes (\(data.classNames.joined(separator: ", "))); label both splits with the same class list.
                    """)
            }
        } else if configuration.earlyStoppingPatience != nil {
            throw TrainingError(.invalidConfiguration, """
                early_stopping_patience is set but there is no validation data; give a validation split or remove \
                early_stopping_patience.
                """)
        }
    }

    /// Softmax heads start at zero (the problem is convex); hidden heads get He-normal first-layer weights and
    /// Glorot-normal output weights from the seeded generator, zero biases.
    private static func initialLayers(_ kind: TrainingConfiguration.HeadKind, dimension: Int, classCount: Int,
                                      generator: inout SeededGenerator) -> [DenseLayer] {
        switch kind {
        case .softmax:
            return [DenseLayer(inputCount: dimension, outputCount: classCount)]
        case .hidden(let units, _):
            func normal(_ count: Int, std: Float) -> [Float] { (0..<count).map { _ in generator.nextNormal() * std } }
            let hidden = DenseLayer(inputCount: dimension, outputCount: units,
                                    weights: normal(dimension * units, std: (2 / Float(dimension)).squareRoot()),
                                    bias: [Float](repeating: 0, count: units))
            let output = DenseLayer(inputCount: units, outputCount: classCount,
                                    weights: normal(units * classCount, std: (2 / Float(units + classCount)).squareRoot()),
                                    bias: [Float](repeating: 0, count: classCount))
            return [hidden, output]
        }
    }
}
