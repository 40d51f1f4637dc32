import Foundation
import Testing
import BottleneckTraining

struct TrainerTests {
    private func bitPatterns(_ head: Head) -> [UInt32] {
        head.layers.flatMap { $0.weights + $0.bias }.map(\.bitPattern)
    }

    @Test func threeBlobsIn20DimensionsReachHighAccuracy() throws {
        let train = try gaussianBlobs(classCount: 3, perClass: 200, dimension: 20, separation: 3, seed: 1)
        let test = try gaussianBlobs(classCount: 3, perClass: 100, dimension: 20, separation: 3, seed: 2)
        for head in [TrainingConfiguration.HeadKind.softmax, .hidden(units: 16, dropout: 0.2)] {
            let configuration = TrainingConfiguration(head: head, epochs: 20, batchSize: 32, learningRate: 0.01)
            let result = try Trainer.train(train, validation: test, configuration: configuration)
            let scores = result.head.scores(for: test.vectors)
            var correct = 0
            for row in 0..<test.count {
                let probabilities = scores[row * 3..<(row + 1) * 3]
                #expect(abs(probabilities.reduce(0, +) - 1) < 1e-5)
                if probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] })! - row * 3 == test.labels[row] {
                    correct += 1
                }
            }
            let accuracy = Double(correct) / Double(test.count)
            #expect(accuracy > 0.95, "\(head): accuracy \(accuracy)")
            #expect(result.metrics.count == 20)
            #expect(abs(result.metrics[result.bestEpoch - 1].validationAccuracy! - accuracy) < 1e-9)
        }
    }

    @Test func sameSeedIsBitIdenticalAndDifferentSeedsDiffer() throws {
        let data = try gaussianBlobs(classCount: 3, perClass: 50, dimension: 10, separation: 2, seed: 3)
        var configuration = TrainingConfiguration(head: .hidden(units: 8, dropout: 0.3), epochs: 5, batchSize: 16,
                                                  seed: 99)
        let first = try Trainer.train(data, configuration: configuration)
        let second = try Trainer.train(data, configuration: configuration)
        #expect(bitPatterns(first.head) == bitPatterns(second.head))
        #expect(first.metrics.map(\.trainLoss) == second.metrics.map(\.trainLoss))
        configuration.seed = 100
        let third = try Trainer.train(data, configuration: configuration)
        #expect(bitPatterns(first.head) != bitPatterns(third.head))

        // Softmax heads start from zero, so only the shuffle order depends on the seed.
        let softmax = TrainingConfiguration(epochs: 3, batchSize: 16, seed: 5)
        let a = try Trainer.train(data, configuration: softmax)
        let b = try Trainer.train(data, configuration: softmax)
        var other = softmax
        other.seed = 6
        let c = try Trainer.train(data, configuration: other)
        #expect(bitPatterns(a.head) == bitPatterns(b.head))
        #expect(bitPatterns(a.head) != bitPatterns(c.head))
    }

    /// Validation labels that contradict the training labels make the validation loss rise after the first
    /// epochs; training must stop `patience` epochs after the best one and return that epoch's weights.
    @Test func earlyStoppingRestoresTheBestEpoch() throws {
        let train = try gaussianBlobs(classCount: 2, perClass: 50, dimension: 4, separation: 3, seed: 4)
        let flipped = try TrainingData(vectors: train.vectors, labels: train.labels.map { 1 - $0 },
                                       dimension: 4, classCount: 2)
        let patience = 3
        var best: (epoch: Int, loss: Double)?
        let configuration = TrainingConfiguration(epochs: 50, batchSize: 10, optimizer: .sgd(momentum: 0.9, nesterov: false),
                                                  learningRate: 0.05, schedule: .constant,
                                                  earlyStoppingPatience: patience)
        let result = try Trainer.train(train, validation: flipped, configuration: configuration) { metrics in
            if best.map({ metrics.validationLoss! < $0.loss }) ?? true {
                best = (metrics.epoch, metrics.validationLoss!)
            }
        }
        #expect(result.stoppedEarly)
        #expect(result.bestEpoch == best?.epoch)
        #expect(result.metrics.count == result.bestEpoch + patience)
        let measured = result.head.scores(for: flipped.vectors)
        var loss = 0.0
        for row in 0..<flipped.count { loss -= log(Double(measured[row * 2 + flipped.labels[row]])) }
        loss /= Double(flipped.count)
        #expect(abs(loss - best!.loss) < 1e-4, "the returned head's validation loss \(loss) is not the best \(best!.loss)")
    }

    @Test func balancedAndExplicitClassWeights() throws {
        let data = try TrainingData(vectors: [Float](repeating: 1, count: 8), labels: [0, 0, 0, 0, 0, 1, 1, 2],
                                    dimension: 1, classNames: ["a", "b", "c"])
        // count / (classCount * count(c)) = 8 / (3 * [5, 2, 1]).
        let balanced = try #require(try Trainer.classWeights(for: data, .balanced))
        #expect(balanced == [Float(8.0 / 15.0), Float(8.0 / 6.0), Float(8.0 / 3.0)])
        #expect(try Trainer.classWeights(for: data, .none) == nil)
        #expect(try Trainer.classWeights(for: data, .explicit(["c": 4])) == [1, 1, 4])
        #expect(throws: TrainingError.self) { try Trainer.classWeights(for: data, .explicit(["d": 4])) }
    }

    @Test func schedulesGiveTheDocumentedLearningRates() {
        var configuration = TrainingConfiguration(epochs: 10, learningRate: 0.1, schedule: .constant)
        #expect((0..<10).map { configuration.learningRate(atEpoch: $0) } == [Float](repeating: 0.1, count: 10))

        configuration.schedule = .step(every: 3, factor: 0.5)
        #expect([0, 2, 3, 5, 6, 9].map { configuration.learningRate(atEpoch: $0) } == [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])

        configuration.schedule = .cosine(warmupEpochs: 2)
        let expected: [Float] = [0.05, 0.1, 0.1, Float(0.1 * (1 + cos(Double.pi / 8)) / 2), 0.05]
        let actual = [0, 1, 2, 3, 6].map { configuration.learningRate(atEpoch: $0) }
        for (a, e) in zip(actual, expected) { #expect(abs(a - e) < 1e-7, "\(actual) vs \(expected)") }
    }

    @Test func classWithoutTrainingImagesIsAClearError() throws {
        let data = try TrainingData(vectors: [0, 1, 2, 3], labels: [0, 2, 0, 2], dimension: 1,
                                    classNames: ["cat", "dog", "bird"])
        do {
            _ = try Trainer.train(data, configuration: TrainingConfiguration(epochs: 1))
            Issue.record("training without any 'dog' example must fail")
        } catch let error as TrainingError {
            #expect(error.code == .classWithoutExamples)
            #expect(error.message == "Class 'dog' has no training images; add images to it or remove the class from the dataset.")
        }
    }

    @Test func invalidInputsAreReported() throws {
        #expect(throws: TrainingError(.nonFiniteFeature, """
            Row 1 has a non-finite feature (nan) at column 0; re-extract that image's vector or drop the row.
            """)) {
            try TrainingData(vectors: [1, 2, .nan, 4], labels: [0, 1], dimension: 2, classCount: 2)
        }
        #expect(throws: TrainingError.self) { try TrainingData(vectors: [1, 2, 3], labels: [0, 1], dimension: 2, classCount: 2) }
        #expect(throws: TrainingError.self) { try TrainingData(vectors: [1, 2], labels: [0, 5], dimension: 1, classCount: 2) }
        let empty = try TrainingData(vectors: [], labels: [], dimension: 3, classCount: 2)
        #expect(throws: TrainingError.self) { try Trainer.train(empty, configuration: TrainingConfiguration()) }
        let data = try TrainingData(vectors: [0, 1], labels: [0, 1], dimension: 1, classCount: 2)
        let wide = try TrainingData(vectors: [0, 1, 2, 3], labels: [0, 1], dimension: 2, classCount: 2)
        #expect(throws: TrainingError.self) {
            try Trainer.train(data, validation: wide, configuration: TrainingConfiguration(epochs: 1))
        }
        for bad in [TrainingConfiguration(epochs: 0), TrainingConfiguration(learningRate: -1),
                    TrainingConfiguration(labelSmoothing: 1), TrainingConfiguration(head: .hidden(units: 4, dropout: 1)),
                    TrainingConfiguration(earlyStoppingPatience: 2)] {
            #expect(throws: TrainingError.self) { try Trainer.train(data, configuration: bad) }
        }
    }
}
