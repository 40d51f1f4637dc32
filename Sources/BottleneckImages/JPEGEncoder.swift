/// Writes JPEG files with TurboJPEG: for benchmark fixtures, tests and datasets.
public enum JPEGEncoder {
    /// Encodes an RGB image as a YCbCr JPEG with 4:2:0 chroma subsampling (Pillow's default).
    ///
    /// - Parameters:
    ///   - quality: libjpeg quality, 1...100.
    ///   - progressive: whether to write progressive rather than baseline scans.
    /// - Throws: `ImageError` with code `.encodingFailed` if TurboJPEG fails (out of memory).
    public static func encode(_ image: RGBImage, quality: Int = 90, progressive: Bool = false) throws(ImageError)
        -> [UInt8]
    {
        try encode(image.pixels, width: image.width, height: image.height, format: .rgb, quality: quality,
                   progressive: progressive)
    }

    /// Encodes `width * height` gray bytes as a one-component JPEG.
    package static func encodeGrayscale(
        width: Int, height: Int, pixels: [UInt8], quality: Int = 90, progressive: Bool = false
    ) throws(ImageError) -> [UInt8] {
        try encode(pixels, width: width, height: height, format: .gray, quality: quality, progressive: progressive)
    }

    /// Encodes `width * height * 4` C, M, Y, K bytes as a YCCK JPEG (4:4:4) with an Adobe APP14 marker.
    ///
    /// The samples are stored exactly as given. Decoders read files with an Adobe marker as inverted CMYK
    /// (0 = full ink), the way Photoshop writes them, so pass `255 - ink` to make such a file.
    package static func encodeCMYK(width: Int, height: Int, pixels: [UInt8], quality: Int = 90) throws(ImageError)
        -> [UInt8]
    {
        try encode(pixels, width: width, height: height, format: .cmyk, quality: quality, progressive: false)
    }

    private static func encode(
        _ pixels: [UInt8], width: Int, height: Int, format: TurboJPEG.PixelFormat, quality: Int, progressive: Bool
    ) throws(ImageError) -> [UInt8] {
        precondition((1...100).contains(quality), "JPEG quality is 1...100, got \(quality)")
        precondition(width > 0 && height > 0 && pixels.count == width * height * format.bytesPerPixel,
                     "a \(width)x\(height) image needs \(width * height * format.bytesPerPixel) bytes")
        do throws(TurboJPEG.CompressionFailure) {
            let turbo = try TurboJPEG.compressor()
            return try pixels.withUnsafeBufferPointer { pixels throws(TurboJPEG.CompressionFailure) in
                try turbo.compress(
                    pixels, width: width, height: height, format: format, quality: quality, progressive: progressive)
            }
        } catch {
            throw ImageError(.encodingFailed, source: "a \(width)x\(height) JPEG image",
                             reason: "TurboJPEG failed: \(error.message)")
        }
    }
}
