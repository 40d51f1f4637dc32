import BottleneckEngine
import Foundation
import Testing

/// EfficientNet-Lite0 at `Precision.int8` against onnxruntime's fp32 golden outputs in ../shared/reference.
@Suite(.enabled(if: Precision.int8.isSupported, "needs AVX-512 VNNI"))
struct QuantizedBackboneTests {
    let model: InferenceModel

    init() throws {
        let url = TestPaths.reference.appendingPathComponent("efficientnet-lite0.onnx")
        model = try InferenceModel(contentsOf: url, outputs: ["features", "logits"], precision: .int8)
    }

    func input(_ name: String) throws -> [Float] {
        try TestPaths.floats(TestPaths.reference.appendingPathComponent("golden/\(name).input.f32"))
    }

    // int8 moves the features: the bar is a relative L2 error under 6% (measured 3.7-4.4% on these five images;
    // quantizing the fused projections too gave 5.2-8.1%) and the same top-1 class. A wrong scale, zero point or
    // packing order gives errors of 100% and more, not a few percent.
    @Test(arguments: GoldenReferenceTests.names, [1, 2])
    func featuresStayCloseToOnnxRuntimeFloat(name: String, threads: Int) throws {
        let outputs = try InferenceSession(model: model, threads: threads)
            .run(try input(name), shape: [1] + GoldenReferenceTests.imageShape)
        let golden = try TestPaths.floats(TestPaths.reference.appendingPathComponent("golden/\(name).features.f32"))
        let features = try #require(outputs["features"]).values
        var (errorSquares, goldenSquares): (Float, Float) = (0, 0)
        for (value, reference) in zip(features, golden) {
            errorSquares += (value - reference) * (value - reference)
            goldenSquares += reference * reference
        }
        let relativeError = (errorSquares / goldenSquares).squareRoot()
        #expect(relativeError < 0.06, "relative L2 error \(relativeError)")
        let logits = try #require(outputs["logits"]).values
        let goldenLogits = try TestPaths.floats(TestPaths.reference.appendingPathComponent("golden/\(name).logits.f32"))
        let top = logits.indices.max { logits[$0] < logits[$1] }
        #expect(top == goldenLogits.indices.max { goldenLogits[$0] < goldenLogits[$1] })
    }

    // Each image row is quantized with its own scale, so an image's features do not depend on the batch or on how
    // threads split the rows. Tolerance 1e-5: the same integer sums, in register tiles that mix rows and images.
    @Test(arguments: [1, 2])
    func batchEqualsSingleImages(threads: Int) throws {
        let session = InferenceSession(model: model, threads: threads)
        let names = GoldenReferenceTests.names
        var batch: [Float] = []
        for name in names { batch += try input(name) }
        let outputs = try session.run(batch, shape: [names.count] + GoldenReferenceTests.imageShape)
        let features = try #require(outputs["features"])
        for (index, name) in names.enumerated() {
            let single = try session.run(try input(name), shape: [1] + GoldenReferenceTests.imageShape)["features"]!
            let difference = TestPaths.maximumDifference(features.item(index), single.values)
            #expect(difference < 1e-5, "image \(name): max difference \(difference)")
        }
    }

    // Every 1x1 convolution runs in int8 except the projections of the six fused blocks: the 21 unfused ones and
    // the five fused 1x1 expansions (the first block's expansion is the stem), each after a quantize step.
    @Test func oneByOneConvolutionsRunInInt8() throws {
        let labels = try InferenceSession(model: model, threads: 1)
            .profile(try input("chelsea"), shape: [1] + GoldenReferenceTests.imageShape).map(\.label)
        let fused = labels.filter { $0.contains("[InvertedBottleneck") }
        #expect(fused.count == 6 && fused.filter { $0.hasSuffix("Int8]") }.count == 5, "\(fused)")
        let int8 = labels.filter { $0.contains("[Conv1x1Int8") }
        #expect(int8.count == 21, "\(int8)")
        #expect(labels.filter { $0.contains("[quantize]") }.count == int8.count + 5)
        #expect(!labels.contains { $0.contains("[Conv1x1") && !$0.contains("Int8") }, "\(labels)")
    }
}
