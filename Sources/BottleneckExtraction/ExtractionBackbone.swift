import BottleneckCache
import BottleneckEngine
import BottleneckImages
import Foundation

/// The backbone as extraction uses it: the model cut at its bottleneck tensor, how images are prepared for it
/// (its `bottleneck.preprocessing` metadata), and the cache namespace its vectors belong to.
struct ExtractionBackbone: Sendable {
    let model: InferenceModel
    let preprocessor: Preprocessor
    let tensorName: String
    let namespace: CacheNamespace

    /// Loads the model and probes it once to learn the vector dimension.
    /// - Throws: `ExtractionError` when the model has no preprocessing metadata or an input that does not match
    ///   it; engine errors for an unreadable model or an unknown tensor; cache errors for an unusable namespace.
    init(modelFile: URL, tensor: String?, dtype: VectorDType, precision: Precision = .float32) throws {
        let model = try InferenceModel(contentsOf: modelFile, outputs: tensor.map { [$0] }, precision: precision)
        guard let specJSON = model.metadata[PreprocessingSpec.metadataKey] else {
            throw ExtractionError("the model \(modelFile.path) has no '\(PreprocessingSpec.metadataKey)'"
                + " metadata, so the tool cannot know how to resize and normalise images for it. Use a model written"
                + " by `bottleneck backbone install`, or add that metadata_props entry.")
        }
        let spec = try PreprocessingSpec(json: specJSON)
        let declared = model.inputDimensions
        guard declared.count == 4, declared[1] == nil || declared[1] == 3,
            declared[2] == nil || declared[2] == spec.inputSize, declared[3] == nil || declared[3] == spec.inputSize
        else {
            throw ExtractionError("the model input \(InferenceSession.describe(declared)) does not match its"
                + " preprocessing (3 x \(spec.inputSize) x \(spec.inputSize) NCHW images).")
        }
        self.model = model
        preprocessor = Preprocessor(spec: spec)
        tensorName = model.outputNames[0]
        let probe = try InferenceSession(model: model, threads: 1)
            .run([Float](repeating: 0, count: preprocessor.valuesPerImage), shape: preprocessor.modelInputShape(),
                 layout: .nhwc)
        namespace = try CacheNamespace(modelFile: modelFile, preprocessingJSON: spec.jsonString(),
                                       tensorName: tensorName, dtype: dtype,
                                       arithmetic: precision.cacheTag,
                                       dimension: probe[tensorName]!.values.count)
    }

    /// One thread's session and input buffer: decode and preprocess up to `capacity` images into their slots,
    /// then run the backbone on them together.
    final class Worker {
        let backbone: ExtractionBackbone
        /// Images one run takes.
        let capacity: Int
        private let session: InferenceSession
        private var input: [Float]

        /// - Parameter capacity: images per run; the engine runs up to `InferenceSession.maximumGroup` together
        ///   (each late layer's weights fetched once for all of them), so more gains nothing.
        init(_ backbone: ExtractionBackbone, capacity: Int = 1) {
            precondition(capacity >= 1, "capacity must be at least 1")
            self.backbone = backbone
            self.capacity = capacity
            session = InferenceSession(model: backbone.model, threads: 1)
            input = [Float](repeating: 0, count: capacity * backbone.preprocessor.valuesPerImage)
        }

        /// Decodes an encoded image and preprocesses it into input slot `slot`.
        /// - Throws: `ImageError` for bytes that are not a decodable image.
        func prepare(_ bytes: Data, source: String, decoder: ImageDecoder, slot: Int) throws {
            precondition(slot >= 0 && slot < capacity, "slot \(slot) out of 0..<\(capacity)")
            let preprocessor = backbone.preprocessor
            let image = try decoder.decode(bytes, source: source,
                                           minimumShorterSide: preprocessor.spec.resizeShorterSide)
            input.withUnsafeMutableBufferPointer {
                preprocessor.prepare(image, into: $0.baseAddress! + slot * preprocessor.valuesPerImage)
            }
        }

        /// The bottleneck vectors of the images prepared in slots `0..<count`, in slot order.
        func vectors(count: Int) throws -> [[Float]] {
            precondition(count >= 1 && count <= capacity, "count \(count) out of 1...\(capacity)")
            let valuesPerImage = backbone.preprocessor.valuesPerImage
            var shape = backbone.preprocessor.modelInputShape()
            shape[0] = count
            let output = try input.withUnsafeBufferPointer {
                try session.run(UnsafeBufferPointer(rebasing: $0[..<(count * valuesPerImage)]), shape: shape,
                                layout: .nhwc)[backbone.tensorName]!
            }
            return (0..<count).map { Array(output.item($0)) }
        }

        /// The bottleneck vector of one encoded image.
        /// - Throws: `ImageError` for bytes that are not a decodable image; engine errors otherwise.
        func vector(of bytes: Data, source: String, decoder: ImageDecoder) throws -> [Float] {
            try prepare(bytes, source: source, decoder: decoder, slot: 0)
            return try vectors(count: 1)[0]
        }
    }
}
