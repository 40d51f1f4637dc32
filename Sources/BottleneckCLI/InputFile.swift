import BottleneckEngine
import BottleneckImages
import Foundation

/// One input of `features`/`classify`: an image file (JPEG or PNG, recognised by its bytes), decoded and
/// preprocessed as the model's `bottleneck.preprocessing` metadata says; or a `.f32` file of raw little-endian
/// float32 values in the model's input layout (e.g. NCHW 1x3x224x224), holding one or more images.
struct InputFile {
    let path: String
    let values: [Float]
    /// The model's logical input shape for these values.
    let shape: [Int]
    /// How `values` are ordered.
    let layout: InferenceSession.InputLayout

    init(path: String, model: InferenceModel) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("cannot read input '\(path)': no such file or not readable.")
        }
        if ImageFormat.detect(data.prefix(16)) != nil {
            try self.init(path: path, image: data, model: model)
        } else {
            try self.init(path: path, raw: data, model: model)
        }
    }

    private init(path: String, image data: Data, model: InferenceModel) throws {
        guard let json = model.metadata[PreprocessingSpec.metadataKey] else {
            throw CommandError("'\(path)' is an image, but the model has no '\(PreprocessingSpec.metadataKey)'"
                + " metadata saying how to prepare images for it; pass raw .f32 tensors, or use a model written by"
                + " `bottleneck backbone install`.")
        }
        let preprocessor = Preprocessor(spec: try PreprocessingSpec(json: json))
        let image = try ImageDecoder().decode(data, source: path,
                                              minimumShorterSide: preprocessor.spec.resizeShorterSide)
        self.path = path
        values = preprocessor.prepare(image)
        shape = preprocessor.modelInputShape()
        layout = .nhwc
    }

    private init(path: String, raw data: Data, model: InferenceModel) throws {
        let image = Array(model.inputDimensions.dropFirst())
        guard !image.contains(where: { $0 == nil }) else {
            throw CommandError("the model input has symbolic dimensions"
                + " \(InferenceSession.describe(model.inputDimensions)); raw .f32 inputs need a fixed image size.")
        }
        let imageShape = image.compactMap { $0 }
        let imageCount = imageShape.reduce(1, *)
        guard !data.isEmpty, data.count % (imageCount * 4) == 0 else {
            throw CommandError("input '\(path)' is neither a JPEG/PNG image nor raw float32 tensors: it has"
                + " \(data.count) bytes, not a whole number of \(imageShape.map(String.init).joined(separator: "x"))"
                + " float32 images (\(imageCount * 4) bytes each).")
        }
        self.path = path
        values = data.withUnsafeBytes { bytes in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(
                fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        shape = [data.count / (imageCount * 4)] + imageShape
        layout = .model
    }
}

/// A command-line failure with a message that says what to do.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
