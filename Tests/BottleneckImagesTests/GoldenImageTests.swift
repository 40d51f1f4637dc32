import BottleneckEngine
import BottleneckImages
import Foundation
import Testing

/// End to end: golden image file -> our decoder -> our preprocessing -> the engine, against onnxruntime's
/// outputs for Pillow's preprocessing in ../shared/reference/golden. The README's bar: features pointing the same
/// way (cosine similarity >= 0.995) and the same top-1 class.
@Suite struct GoldenImageTests {
    struct Golden: Decodable {
        let top5_class_index: [Int]
    }

    let model: InferenceModel
    let expected: [String: Golden]

    init() throws {
        let reference = PreprocessingTestSupport.reference
        model = try InferenceModel(contentsOf: reference.appendingPathComponent("efficientnet-lite0.onnx"),
                                   outputs: ["features", "logits"])
        let json = try Data(contentsOf: PreprocessingTestSupport.goldenDirectory.appendingPathComponent("expected.json"))
        expected = try JSONDecoder().decode([String: Golden].self, from: json)
    }

    @Test(arguments: PreprocessingTestSupport.goldenImages)
    func imageFileGivesTheGoldenFeatures(_ file: String) throws {
        let golden = PreprocessingTestSupport.goldenDirectory
        let stem = String(file.split(separator: ".")[0])
        let preprocessor = Preprocessor(spec: .efficientNetLite0)
        // As the pipeline decodes: JPEGs at a DCT-scaled size when that still covers the resize target.
        let image = try ImageDecoder().decode(contentsOf: golden.appendingPathComponent("images/\(file)"),
                                              minimumShorterSide: preprocessor.spec.resizeShorterSide)
        let input = preprocessor.prepare(image)

        let goldenInput = PreprocessingTestSupport.nchwToNHWC(
            try PreprocessingTestSupport.floats(golden.appendingPathComponent("\(stem).input.f32")),
            channels: 3, height: 224, width: 224)
        let inputDifference = PreprocessingTestSupport.maximumDifference(input, goldenInput)
        let meanDifference = zip(input, goldenInput).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(input.count)

        let session = InferenceSession(model: model, threads: 1)
        let outputs = try session.run(input, shape: preprocessor.modelInputShape(), layout: .nhwc)
        let features = try #require(outputs["features"]).values
        let logits = try #require(outputs["logits"]).values
        let goldenFeatures = try PreprocessingTestSupport.floats(golden.appendingPathComponent("\(stem).features.f32"))
        #expect(features.count == 1280 && goldenFeatures.count == 1280)
        let cosine = Self.cosine(features, goldenFeatures)
        let top1 = logits.indices.max { logits[$0] < logits[$1] }!
        let expectedTop1 = try #require(expected[file]?.top5_class_index.first)
        print("golden image \(file) decoded \(image.width)x\(image.height): input max |diff| \(inputDifference)"
            + " (\(inputDifference * 128) levels), mean \(meanDifference * 128) levels; features cosine"
            + " \(cosine); top-1 \(top1) (expected \(expectedTop1))")
        #expect(cosine >= 0.995, "\(file): features cosine similarity \(cosine)")
        #expect(top1 == expectedTop1, "\(file): top-1 class \(top1), expected \(expectedTop1)")
    }

    /// The project's exported model carries exactly the spec the preprocessor defaults to.
    @Test func exportedModelCarriesTheDefaultSpec() throws {
        let url = PreprocessingTestSupport.repository.appendingPathComponent("models/efficientnet-lite0.onnx")
        try #require(FileManager.default.fileExists(atPath: url.path), "no \(url.path): run `make model`")
        let exported = try InferenceModel(contentsOf: url)
        let json = try #require(exported.metadata[PreprocessingSpec.metadataKey])
        #expect(try PreprocessingSpec(json: json) == .efficientNetLite0)
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            aa += Double(x) * Double(x)
            bb += Double(y) * Double(y)
        }
        return dot / (aa.squareRoot() * bb.squareRoot())
    }
}
