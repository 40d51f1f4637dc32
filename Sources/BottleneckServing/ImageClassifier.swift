import BottleneckEngine
import BottleneckImages
import Foundation

/// Classifies image bytes with a combined model, as `bottleneck export` writes it: an ONNX graph from the image
/// input to a softmax output named `scores` (`[N, classes]`), with the format `combined/1` in the metadata entry
/// `bottleneck.format`, the class names in `bottleneck.labels` (a JSON array, in output order) and the image
/// preparation in `bottleneck.preprocessing` (the names are `CombinedModelContract`'s).
///
/// Loading checks all of that and runs the model once on a blank image, so a model that cannot serve fails at
/// load rather than on the first request, and the first request finds its buffers ready.
///
/// Not thread-safe: one `classify(_:top:)` or `probabilities(of:)` call at a time (the underlying session reuses
/// its buffers).
///
///     let classifier = try ImageClassifier(modelAt: URL(fileURLWithPath: "model.onnx"), threads: 2)
///     let result = try classifier.classify(bytes, top: 3)   // result.top[0].label, .score
public final class ImageClassifier {
    /// The class names, in output order.
    public let labels: [String]
    /// The model's metadata_props (labels, preprocessing, training, test metrics, tool version, ...).
    public let metadata: [String: String]
    /// How images are prepared for the model.
    public let preprocessing: PreprocessingSpec

    private let session: InferenceSession
    private let preprocessor: Preprocessor
    private let decoder: ImageDecoder
    private let inputShape: [Int]
    private let inputLayout: InferenceSession.InputLayout

    private typealias Contract = CombinedModelContract

    /// Loads and checks a combined model.
    /// - Parameters:
    ///   - url: the `.onnx` file.
    ///   - threads: worker threads of the inference session, at least 1.
    ///   - pixelLimit: the largest `width * height` decoded; larger images fail with `.tooLarge` before any
    ///     pixel memory is allocated. Default 50 MP.
    ///   - precision: the backbone's arithmetic; int8 for a head trained on int8 vectors gives exactly the scores
    ///     it was evaluated with (fp32 serves it too, with features about 4% apart).
    /// - Throws: `ServingError(.invalidModel)` saying what is wrong: unreadable or not ONNX, no `scores` output,
    ///   a missing or unsupported format, missing or malformed labels or preprocessing, or scores that do not match
    ///   the labels.
    public init(modelAt url: URL, threads: Int, pixelLimit: Int = 50_000_000, precision: Precision = .float32)
        throws(ServingError)
    {
        precondition(threads >= 1, "threads must be at least 1, got \(threads)")
        let model: InferenceModel
        do {
            model = try InferenceModel(contentsOf: url, outputs: [Contract.scoresOutput], precision: precision)
        } catch let error as EngineError where error.code == .unknownTensor {
            throw Self.invalid(url, "it has no '\(Contract.scoresOutput)' output, so it is not a combined model (a "
                + "backbone, perhaps). Write one with `bottleneck export --run RUN --output model.onnx`")
        } catch {
            throw Self.invalid(url, "\(error)")
        }
        metadata = model.metadata
        guard let format = metadata[Contract.formatKey] else {
            throw Self.invalid(url, "it has no '\(Contract.formatKey)' metadata, so it is not a combined model "
                + "written by `bottleneck export`. Write one with `bottleneck export --run RUN --output model.onnx`")
        }
        guard format == Contract.format else {
            throw Self.invalid(url, "its \(Contract.formatKey) is '\(format)', and this version reads "
                + "'\(Contract.format)'. Export the model again with this version of bottleneck")
        }
        guard let labelsJSON = metadata[Contract.labelsKey] else {
            throw Self.invalid(url, "it has no '\(Contract.labelsKey)' metadata naming its classes; is it a backbone "
                + "rather than a combined model? Write one with `bottleneck export`")
        }
        guard let labels = try? JSONDecoder().decode([String].self, from: Data(labelsJSON.utf8)), !labels.isEmpty
        else {
            throw Self.invalid(url, "its '\(Contract.labelsKey)' metadata is not a non-empty JSON array of strings")
        }
        self.labels = labels
        guard let preprocessingJSON = metadata[PreprocessingSpec.metadataKey] else {
            throw Self.invalid(url, "it has no '\(PreprocessingSpec.metadataKey)' metadata saying how to prepare "
                + "images for it. Write the model with `bottleneck export`")
        }
        do {
            preprocessing = try PreprocessingSpec(json: preprocessingJSON)
        } catch {
            throw Self.invalid(url, "its '\(PreprocessingSpec.metadataKey)' metadata is malformed: \(error)")
        }
        preprocessor = Preprocessor(spec: preprocessing)
        decoder = ImageDecoder(pixelLimit: pixelLimit)
        let size = preprocessing.inputSize
        // The preprocessor writes NHWC; the engine takes that for an NCHW model, and as is for an NHWC one.
        if preprocessing.layout == "NHWC" {
            inputShape = [1, size, size, 3]
            inputLayout = .model
        } else {
            inputShape = [1, 3, size, size]
            inputLayout = .nhwc
        }
        session = InferenceSession(model: model, threads: threads)

        let blank = [Float](repeating: 0, count: preprocessor.valuesPerImage)
        let scores: [Float]
        do {
            scores = try run(blank)
        } catch {
            throw Self.invalid(url, "it cannot run on a \(size)x\(size) image as its preprocessing says: \(error)")
        }
        guard scores.count == labels.count else {
            throw Self.invalid(url, "its '\(Contract.scoresOutput)' output has \(scores.count) values per image but "
                + "'\(Contract.labelsKey)' names \(labels.count) classes. Export the model again")
        }
    }

    /// Decodes, prepares and classifies one image.
    /// - Parameters:
    ///   - imageBytes: a whole JPEG or PNG file.
    ///   - top: how many classes to return, at least 1; at most the number of classes are.
    /// - Returns: the `top` most probable classes (ties by lower index) and the time spent.
    /// - Throws: `ServingError` of kind `.notAnImage` (not JPEG or PNG, or damaged), `.tooLarge` (more pixels
    ///   than the pixel limit) or `.invalidModel` (the model failed to run).
    public func classify(_ imageBytes: Data, top: Int) throws(ServingError) -> Classification {
        precondition(top >= 1, "top must be at least 1, got \(top)")
        let start = ContinuousClock.now
        let input = try prepare(imageBytes)
        let prepared = ContinuousClock.now
        let scores = try scores(of: input)
        let finished = ContinuousClock.now
        let ranked = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        return Classification(
            top: ranked.prefix(top).map { ClassScore(label: labels[$0], index: $0, score: scores[$0]) },
            decodeSeconds: Self.seconds(prepared - start),
            inferenceSeconds: Self.seconds(finished - prepared))
    }

    /// Decodes and prepares one image and returns the probability of every class.
    /// - Parameter imageBytes: a whole JPEG or PNG file.
    /// - Returns: one probability per class, in `labels` order.
    /// - Throws: `ServingError` of kind `.notAnImage` (not JPEG or PNG, or damaged), `.tooLarge` (more pixels
    ///   than the pixel limit) or `.invalidModel` (the model failed to run).
    public func probabilities(of imageBytes: Data) throws(ServingError) -> [Float] {
        try scores(of: try prepare(imageBytes))
    }

    /// The model input of one image: decoded and prepared as `preprocessing` says (NHWC floats).
    private func prepare(_ imageBytes: Data) throws(ServingError) -> [Float] {
        let image: RGBImage
        do {
            image = try decoder.decode(imageBytes, source: "the image",
                                       minimumShorterSide: preprocessing.resizeShorterSide)
        } catch {
            throw ServingError(error.code == .tooLarge ? .tooLarge : .notAnImage,
                               error.reason.prefix(1).uppercased() + error.reason.dropFirst() + ".")
        }
        return preprocessor.prepare(image)
    }

    /// The scores of one prepared image, as a serving error when the model fails.
    private func scores(of input: [Float]) throws(ServingError) -> [Float] {
        do {
            return try run(input)
        } catch {
            throw ServingError(.invalidModel, "the model failed to run on the image: \(error). Check the model "
                + "with `bottleneck inspect`.")
        }
    }

    /// The scores of one prepared image (NHWC floats).
    private func run(_ input: [Float]) throws -> [Float] {
        let outputs = try session.run(input, shape: inputShape, layout: inputLayout)
        guard let scores = outputs[Contract.scoresOutput] else {
            preconditionFailure("the session was built to compute '\(Contract.scoresOutput)'")
        }
        return scores.values
    }

    private static func invalid(_ url: URL, _ reason: String) -> ServingError {
        let sentence = reason.hasSuffix(".") ? reason : reason + "."
        return ServingError(.invalidModel, "cannot serve the model \(url.path): \(sentence)")
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
