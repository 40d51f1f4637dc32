import BottleneckImages
import BottleneckServing
import Foundation
import Testing

/// ImageClassifier on the tiny hand-checkable combined model: scores against a hand computation, top-k order,
/// and the model and image errors.
@Suite struct ImageClassifierTests {
    /// A temporary folder holding the tiny model (with metadata changed by `overrides`).
    func withModel(
        _ overrides: [String: String?] = [:], _ body: (URL) throws -> Void
    ) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-classifier-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.onnx")
        try TinyClassifierModel.write(to: url, metadata: overrides)
        try body(url)
    }

    /// Scores are float32 softmax outputs of logits of magnitude below 5 computed from 64-value means: float32
    /// rounding stays below 1e-6, so 1e-5 absolute leaves a margin while still catching any wrong weight, pixel,
    /// channel order or normalisation (those move scores by more than 1e-3).
    static let tolerance = 1e-5

    @Test(arguments: [[220, 30, 30], [20, 180, 40], [30, 60, 240], [128, 128, 128], [90, 200, 210]])
    func topKMatchesTheHandComputation(colour: [UInt8]) throws {
        try withModel { url in
            let classifier = try ImageClassifier(modelAt: url, threads: 1)
            #expect(classifier.labels == TinyClassifierModel.labels)
            #expect(classifier.metadata["bottleneck.format"] == "combined/1")
            let expected = TinyClassifierModel.expectedScores(for: colour)
            let result = try classifier.classify(Data(try PNGEncoder.encode(TinyClassifierModel.image(colour))), top: 3)

            let order = expected.indices.sorted { expected[$0] > expected[$1] }
            #expect(result.top.map(\.index) == Array(order.prefix(3)))
            for score in result.top {
                #expect(score.label == TinyClassifierModel.labels[score.index])
                #expect(abs(Double(score.score) - expected[score.index]) < Self.tolerance,
                        "class \(score.index): \(score.score) vs \(expected[score.index])")
            }
            #expect(result.decodeSeconds >= 0 && result.inferenceSeconds >= 0)
        }
    }

    @Test func probabilitiesCoverEveryClassInLabelOrder() throws {
        try withModel { url in
            let classifier = try ImageClassifier(modelAt: url, threads: 1)
            let colour: [UInt8] = [90, 200, 210]
            let probabilities = try classifier.probabilities(of: Data(try PNGEncoder.encode(TinyClassifierModel.image(colour))))
            let expected = TinyClassifierModel.expectedScores(for: colour)
            #expect(probabilities.count == TinyClassifierModel.labels.count)
            for (ours, theirs) in zip(probabilities, expected) {
                #expect(abs(Double(ours) - theirs) < Self.tolerance, "\(ours) vs \(theirs)")
            }
        }
    }

    @Test func jpegIsClassifiedToo() throws {
        try withModel { url in
            let classifier = try ImageClassifier(modelAt: url, threads: 2)
            let jpeg = try JPEGEncoder.encode(TinyClassifierModel.image([30, 60, 240]), quality: 95)
            let result = try classifier.classify(Data(jpeg), top: 1)
            #expect(result.top.map(\.label) == ["blue"])
        }
    }

    @Test func topIsClampedToTheClassCountAndSumsToOne() throws {
        try withModel { url in
            let classifier = try ImageClassifier(modelAt: url, threads: 1)
            let result = try classifier.classify(Data(try PNGEncoder.encode(TinyClassifierModel.image([1, 2, 3]))),
                                                 top: 10)
            #expect(result.top.count == 4)
            #expect(Set(result.top.map(\.index)) == [0, 1, 2, 3])
            #expect(abs(result.top.map { Double($0.score) }.reduce(0, +) - 1) < Self.tolerance)
            #expect(zip(result.top, result.top.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
    }

    @Test func nonImagesAndDamagedImagesAreNotAnImage() throws {
        try withModel { url in
            let classifier = try ImageClassifier(modelAt: url, threads: 1)
            let png = try PNGEncoder.encode(TinyClassifierModel.image([9, 9, 9]))
            for (bytes, text) in [(Data("<html></html>".utf8), "HTML"), (Data(), "empty"),
                                  (Data(png.prefix(40)), "PNG")] {
                let error = try #require(throws: ServingError.self) { try classifier.classify(bytes, top: 1) }
                #expect(error.kind == .notAnImage)
                #expect(error.message.contains(text), "\(error)")
            }
        }
    }

    @Test func imagesOverThePixelLimitAreTooLarge() throws {
        try withModel { url in
            let classifier = try ImageClassifier(modelAt: url, threads: 1, pixelLimit: 4095)
            let error = try #require(throws: ServingError.self) {
                try classifier.classify(Data(try PNGEncoder.encode(TinyClassifierModel.image([9, 9, 9]))), top: 1)
            }
            #expect(error.kind == .tooLarge)
        }
    }

    @Test(arguments: [
        (["bottleneck.labels": nil], "no 'bottleneck.labels'"),
        (["bottleneck.labels": "{\"a\": 1}"], "not a non-empty JSON array"),
        (["bottleneck.labels": "[]"], "not a non-empty JSON array"),
        (["bottleneck.labels": "[\"a\", \"b\"]"], "has 4 values per image but 'bottleneck.labels' names 2"),
        (["bottleneck.preprocessing": nil], "no 'bottleneck.preprocessing'"),
        (["bottleneck.preprocessing": "{\"input_size\": 0}"], "malformed"),
        (["bottleneck.format": "combined/2"], "'combined/2'"),
        (["bottleneck.format": nil], "no 'bottleneck.format'"),
    ] as [([String: String?], String)])
    func badMetadataIsAnInvalidModel(overrides: [String: String?], text: String) throws {
        try withModel(overrides) { url in
            let error = try #require(throws: ServingError.self) { try ImageClassifier(modelAt: url, threads: 1) }
            #expect(error.kind == .invalidModel)
            #expect(error.message.contains(text), "\(error)")
            #expect(error.message.contains(url.path))
        }
    }

    @Test func missingDamagedAndScorelessFilesAreInvalidModels() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-classifier-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("missing.onnx")
        let text = folder.appendingPathComponent("text.onnx")
        try Data("not a model".utf8).write(to: text)
        let scoreless = folder.appendingPathComponent("probabilities.onnx")
        try TinyClassifierModel.write(to: scoreless, output: "probabilities")
        for (url, reason) in [(missing, "cannot read"), (text, "not a valid ONNX model"), (scoreless, "'scores'")] {
            let error = try #require(throws: ServingError.self) { try ImageClassifier(modelAt: url, threads: 1) }
            #expect(error.kind == .invalidModel)
            #expect(error.message.contains(url.path) && error.message.contains(reason), "\(error)")
        }
    }
}
