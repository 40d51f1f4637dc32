import BottleneckEngine
import BottleneckExport
import BottleneckImages
import Foundation

/// Class probabilities of image files from a combined model (`bottleneck export`): each file is decoded, prepared as
/// the model's `bottleneck.preprocessing` says, and run through the engine up to the `scores` output.
///
/// One image at a time, its layers split over `threads`; not safe to call from several threads at once.
final class CombinedModelScorer {
    let metadata: CombinedModelMetadata
    private let session: InferenceSession
    private let preprocessor: Preprocessor
    private let decoder: ImageDecoder
    private var input: [Float]

    /// - Throws: `EngineError` for an unreadable model, `ExportError(.notACombinedModel)` for a model without the
    ///   combined metadata (e.g. a plain backbone).
    init(modelAt url: URL, threads: Int, pixelLimit: Int = 50_000_000) throws {
        let graph = try ONNXImporter.importModel(at: url)
        metadata = try CombinedModelMetadata(reading: graph.metadata)
        let model = try InferenceModel(graph: graph, outputs: [CombinedModelBuilder.scoresName])
        session = InferenceSession(model: model, threads: threads)
        preprocessor = Preprocessor(spec: metadata.preprocessing)
        decoder = ImageDecoder(pixelLimit: pixelLimit)
        input = [Float](repeating: 0, count: preprocessor.valuesPerImage)
    }

    var classCount: Int { metadata.labels.count }

    /// The probabilities of every class, in `metadata.labels` order.
    /// - Throws: `ImageError` for a file that cannot be read or decoded; `EngineError` if the model cannot run.
    func scores(ofImageAt url: URL) throws -> [Float] {
        let image = try decoder.decode(contentsOf: url, minimumShorterSide: preprocessor.spec.resizeShorterSide)
        input.withUnsafeMutableBufferPointer { preprocessor.prepare(image, into: $0.baseAddress!) }
        let outputs = try session.run(input, shape: preprocessor.modelInputShape(), layout: .nhwc)
        guard let scores = outputs[CombinedModelBuilder.scoresName]?.values, scores.count == classCount else {
            throw CommandError("the model's '\(CombinedModelBuilder.scoresName)' output does not have one value per"
                + " class (\(classCount)); the file is damaged, export it again.")
        }
        return scores
    }
}
