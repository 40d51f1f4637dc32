/// Decodes JPEG images with TurboJPEG: size check, DCT-domain downscaling, CMYK conversion, EXIF orientation.
enum JPEGDecoding {
    /// The denominators of the DCT scaling factors used (1/8, 1/4, 1/2), smallest image first: the only factors
    /// with SIMD inverse DCTs in libjpeg-turbo.
    private static let scaleDenominators = [8, 4, 2]

    /// Decodes a JPEG to upright RGB.
    ///
    /// - Parameters:
    ///   - jpeg: the whole file.
    ///   - pixelLimit: the largest `width * height` accepted, checked against the header before any pixel memory
    ///     is allocated.
    ///   - minimumShorterSide: when given, the image is decoded at the smallest of 1/8, 1/4 and 1/2 scale whose
    ///     shorter side is still at least this long (or at full size when none is).
    static func decode(
        _ jpeg: UnsafeBufferPointer<UInt8>, pixelLimit: Int, minimumShorterSide: Int?
    ) throws(DecodingFailure) -> RGBImage {
        let turbo = try TurboJPEG.decompressor()
        let header = try turbo.readHeader(jpeg)
        guard header.width * header.height <= pixelLimit else {
            throw .tooLarge(width: header.width, height: header.height, limit: pixelLimit)
        }
        let denominator = scaleDenominator(width: header.width, height: header.height, minimumShorterSide)
        // TJSCALED: the scaled size rounds up.
        let width = (header.width + denominator - 1) / denominator
        let height = (header.height + denominator - 1) / denominator
        let metadata = JPEGMetadata(jpeg)

        let image: RGBImage
        switch header.colorspace {
        case .cmyk, .ycck:
            // TurboJPEG decodes these only to CMYK.
            let cmyk = try decompress(
                jpeg, with: turbo, metadata: metadata, width: width, height: height, format: .cmyk)
            let storage: CMYKStorage = metadata.hasAdobeMarker ? .inverted : .plain
            image = RGBImage(width: width, height: height, pixels: storage.rgb(fromCMYK: cmyk))
        case .rgb, .yCbCr, .gray:
            let rgb = try decompress(
                jpeg, with: turbo, metadata: metadata, width: width, height: height, format: .rgb)
            image = RGBImage(width: width, height: height, pixels: rgb)
        }
        return metadata.orientation.apply(to: image)
    }

    /// The DCT scaling denominator (1, 2, 4 or 8) for a `width` x `height` image.
    private static func scaleDenominator(width: Int, height: Int, _ minimumShorterSide: Int?) -> Int {
        guard let minimumShorterSide else { return 1 }
        let shorterSide = min(width, height)
        return scaleDenominators.first { (shorterSide + $0 - 1) / $0 >= minimumShorterSide } ?? 1
    }

    /// Decodes the pixels, refusing truncated data.
    private static func decompress(
        _ jpeg: UnsafeBufferPointer<UInt8>, with turbo: TurboJPEG, metadata: JPEGMetadata, width: Int, height: Int,
        format: TurboJPEG.PixelFormat
    ) throws(DecodingFailure) -> [UInt8] {
        let count = width * height * format.bytesPerPixel
        var failure: DecodingFailure?
        var warning: TurboJPEG.Warning?
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            do throws(DecodingFailure) {
                warning = try turbo.decompress(jpeg, width: width, height: height, format: format, into: buffer)
                initializedCount = count
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        // Recoverable corruption ("extraneous bytes before marker") is accepted, as Pillow accepts it; running out
        // of data is not, though libjpeg fills the missing rows with grey. TurboJPEG reports only the first
        // warning, which can hide the truncation, so a stream without an EOI marker after its first scan counts
        // as truncated too.
        if let warning {
            let detail =
                if warning.isTruncation {
                    warning.message
                } else if !metadata.hasEndOfImageMarker(in: jpeg) {
                    "no end-of-image marker after the image data; libjpeg first reported: \(warning.message)"
                } else {
                    String?.none
                }
            if let detail {
                throw DecodingFailure(
                    .damaged, "the JPEG data is truncated (\(detail)); re-download or re-export the file")
            }
        }
        return pixels
    }
}
