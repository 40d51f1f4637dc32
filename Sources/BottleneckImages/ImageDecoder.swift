import Foundation

/// Decodes JPEG and PNG images to upright 8-bit RGB.
///
/// A cheap value that holds only settings: every call creates and frees its own library state, so one decoder
/// can be used from many threads at once.
public struct ImageDecoder: Sendable {
    /// The largest `width * height` (of the stored, unscaled image) that is decoded; larger headers throw
    /// `.tooLarge` before any pixel memory is allocated.
    public let pixelLimit: Int

    /// Creates a decoder.
    ///
    /// - Parameter pixelLimit: the largest number of pixels accepted; the default, 50 MP, passes every camera
    ///   photo and refuses decompression bombs (a 20000x20000 header would need 1.2 GB).
    public init(pixelLimit: Int = 50_000_000) {
        precondition(pixelLimit > 0, "the pixel limit must be positive, got \(pixelLimit)")
        self.pixelLimit = pixelLimit
    }

    /// Decodes a JPEG or PNG held in memory, recognised by its leading bytes.
    ///
    /// JPEGs are turned upright by their EXIF orientation; CMYK JPEGs are converted to RGB; PNG alpha is dropped.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: the path or URL the bytes came from, for error messages.
    ///   - minimumShorterSide: when given, a JPEG is decoded at the smallest of 1/8, 1/4 and 1/2 scale (libjpeg's
    ///     DCT scaling, much cheaper than resizing afterwards) whose shorter side is still at least this long, or
    ///     at full size when none is. PNGs are always decoded at full size.
    /// - Throws: `ImageError`: `.empty`, `.unsupportedFormat`, `.damaged` (truncated or corrupt) or `.tooLarge`.
    public func decode(_ bytes: [UInt8], source: String, minimumShorterSide: Int? = nil) throws(ImageError)
        -> RGBImage
    {
        try bytes.withUnsafeBufferPointer { buffer throws(ImageError) in
            try decode(buffer, source: source, minimumShorterSide: minimumShorterSide)
        }
    }

    /// Decodes a JPEG or PNG held in memory; see `decode(_:source:minimumShorterSide:)` for `[UInt8]`.
    public func decode(_ data: Data, source: String, minimumShorterSide: Int? = nil) throws(ImageError) -> RGBImage {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(ImageError) in
                try decode(raw.assumingMemoryBound(to: UInt8.self), source: source,
                           minimumShorterSide: minimumShorterSide)
            }
        }
        return try result.get()
    }

    /// Reads and decodes the JPEG or PNG file at `url`; see `decode(_:source:minimumShorterSide:)`.
    ///
    /// - Throws: `ImageError` with code `.unreadable` if the file cannot be read, or any code `decode` throws.
    ///   Its `source` is the URL's path for file URLs, else the whole URL.
    public func decode(contentsOf url: URL, minimumShorterSide: Int? = nil) throws(ImageError) -> RGBImage {
        let source = url.isFileURL ? url.path : url.absoluteString
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let cause = Self.whyUnreadable(url, error)
            throw ImageError(
                .unreadable, source: source,
                reason: "the file cannot be read (\(cause)); check the path and its permissions")
        }
        return try decode(data, source: source, minimumShorterSide: minimumShorterSide)
    }

    private func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, source: String, minimumShorterSide: Int?
    ) throws(ImageError) -> RGBImage {
        if let minimumShorterSide {
            precondition(minimumShorterSide > 0, "minimumShorterSide must be positive, got \(minimumShorterSide)")
        }
        do throws(DecodingFailure) {
            switch ImageFormat.detect(bytes) {
            case .jpeg:
                return try JPEGDecoding.decode(bytes, pixelLimit: pixelLimit, minimumShorterSide: minimumShorterSide)
            case .png:
                return try PNGCodec.decode(bytes, pixelLimit: pixelLimit)
            case nil:
                throw Self.unrecognised(bytes)
            }
        } catch {
            throw ImageError(error.code, source: source, reason: error.reason)
        }
    }

    /// A plain cause for a failed read; Foundation's own messages on Linux can be as vague as "error 256".
    private static func whyUnreadable(_ url: URL, _ error: any Error) -> String {
        guard url.isFileURL else { return error.localizedDescription }
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        if !FileManager.default.isReadableFile(atPath: url.path) { return "permission denied" }
        return error.localizedDescription
    }

    /// The failure for bytes that are neither JPEG nor PNG.
    private static func unrecognised(_ bytes: UnsafeBufferPointer<UInt8>) -> DecodingFailure {
        if bytes.isEmpty {
            return DecodingFailure(.empty, "the file is empty (0 bytes); re-download it or remove it")
        }
        let what =
            if let name = ImageFormat.describeUnsupported(bytes) {
                "the file is \(name), not a JPEG or PNG image"
            } else {
                "the file is not a JPEG or PNG image (it starts with bytes "
                    + bytes.prefix(8).map { String(format: "%02X", $0) }.joined(separator: " ") + ")"
            }
        return DecodingFailure(.unsupportedFormat, what + "; convert it to JPEG or PNG, or remove it")
    }
}
