import Foundation

/// A decoding failure before it is tied to a file: the decoders throw this, and `ImageDecoder` adds the source
/// to make an `ImageError`.
struct DecodingFailure: Error {
    let code: ImageError.Code
    let reason: String

    init(_ code: ImageError.Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The `.tooLarge` failure for an image whose header declares `width` x `height` pixels.
    static func tooLarge(width: Int, height: Int, limit: Int) -> DecodingFailure {
        let megapixels = String(format: "%.1f", Double(width) * Double(height) / 1e6)
        let limitMegapixels = String(format: "%.1f", Double(limit) / 1e6)
        return DecodingFailure(
            .tooLarge,
            "the image is \(width)x\(height) pixels (\(megapixels) MP), above the limit of \(limitMegapixels) MP; "
                + "downscale it, or raise the pixel limit if the image is genuine")
    }
}
