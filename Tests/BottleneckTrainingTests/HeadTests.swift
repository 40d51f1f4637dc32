import Foundation
import Testing
import BottleneckTraining

struct HeadTests {
    private func trainedHead(_ kind: TrainingConfiguration.HeadKind) throws -> (Head, TrainingData) {
        let data = try gaussianBlobs(classCount: 4, perClass: 30, dimension: 6, separation: 2, seed: 11)
        let head = try Trainer.train(data, configuration: TrainingConfiguration(head: kind, epochs: 5, batchSize: 16)).head
        return (head, data)
    }

    @Test(arguments: [TrainingConfiguration.HeadKind.softmax, .hidden(units: 5, dropout: 0.1)])
    func foldedStandardisationGivesTheSameScores(kind: TrainingConfiguration.HeadKind) throws {
        let (head, data) = try trainedHead(kind)
        #expect(head.standardisation != nil)
        let folded = head.foldedStandardisation()
        #expect(folded.standardisation == nil)
        let worst = zip(head.scores(for: data.vectors), folded.scores(for: data.vectors)).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5)
    }

    @Test func writeAndReadRoundTripExactly() throws {
        let (head, data) = try trainedHead(.hidden(units: 3, dropout: 0))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("head-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try head.write(to: url)
        let read = try Head(contentsOf: url)
        #expect(read == head)
        #expect(read.scores(for: data.vectors) == head.scores(for: data.vectors))
        try Data("{}".utf8).write(to: url)
        #expect(throws: TrainingError.self) { try Head(contentsOf: url) }
    }

    @Test func configurationDecodesSnakeCaseAndDefaultsMissingKeys() throws {
        let json = """
            {"epochs": 7, "batch_size": 64, "learning_rate": 0.5, "schedule": {"cosine": {"warmup_epochs": 3}},
             "early_stopping_patience": 4, "class_weights": {"balanced": {}},
             "optimizer": {"sgd": {"momentum": 0.8, "nesterov": true}}, "head": {"hidden": {"units": 32, "dropout": 0.5}}}
            """
        let configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(json.utf8))
        var expected = TrainingConfiguration(
            head: .hidden(units: 32, dropout: 0.5), epochs: 7, batchSize: 64, optimizer: .sgd(momentum: 0.8, nesterov: true),
            learningRate: 0.5, schedule: .cosine(warmupEpochs: 3), classWeights: .balanced, earlyStoppingPatience: 4)
        #expect(configuration == expected)
        let decodedDefaults = try JSONDecoder().decode(TrainingConfiguration.self, from: Data("{}".utf8))
        #expect(decodedDefaults == TrainingConfiguration())
        expected.classWeights = .explicit(["cat": 2])
        let roundTrip = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(expected))
        #expect(roundTrip == expected)
    }
}
