import BottleneckEngine
import Foundation

/// A `.f32` file: raw little-endian float32 values in the model's input layout (e.g. NCHW 1x3x224x224),
/// holding one or more images.
struct RawInputFile {
    let path: String
    let values: [Float]
    let shape: [Int]

    /// Reads `path` and checks it holds whole images for `model`'s input.
    init(path: String, model: InferenceModel) throws {
        self.path = path
        let image = Array(model.inputDimensions.dropFirst())
        guard !image.contains(where: { $0 == nil }) else {
            throw CommandError("the model input has symbolic dimensions"
                + " \(InferenceSession.describe(model.inputDimensions)); raw .f32 inputs need a fixed image size.")
        }
        let imageShape = image.compactMap { $0 }
        let imageCount = imageShape.reduce(1, *)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("cannot read input '\(path)': no such file or not readable.")
        }
        guard !data.isEmpty, data.count % (imageCount * 4) == 0 else {
            throw CommandError("input '\(path)' has \(data.count) bytes, which is not a whole number of"
                + " \(imageShape.map(String.init).joined(separator: "x")) float32 images (\(imageCount * 4) bytes"
                + " each).")
        }
        values = data.withUnsafeBytes { bytes in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(
                fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        shape = [data.count / (imageCount * 4)] + imageShape
    }
}

/// A command-line failure with a message that says what to do.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
