/// Writes PNG files: for datasets stored as PNG (Fashion-MNIST), benchmark fixtures and tests.
public enum PNGEncoder {
    /// Encodes an RGB image as an 8-bit RGB PNG (lossless).
    ///
    /// - Throws: `ImageError` with code `.encodingFailed` if libpng fails (out of memory).
    public static func encode(_ image: RGBImage) throws(ImageError) -> [UInt8] {
        try PNGCodec.encode(
            width: image.width, height: image.height, colorType: .rgb, bitDepth: 8, interlaced: false,
            rows: image.pixels, rowBytes: image.width * 3, palette: [], transparency: [])
    }

    /// Encodes an 8-bit grayscale image as a grayscale PNG (lossless).
    ///
    /// - Parameter pixels: `width * height` bytes, rows top to bottom.
    /// - Throws: `ImageError` with code `.encodingFailed` if libpng fails (out of memory).
    public static func encodeGrayscale(width: Int, height: Int, pixels: [UInt8]) throws(ImageError) -> [UInt8] {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "a \(width)x\(height) grayscale image needs \(width * height) bytes, got \(pixels.count)")
        return try PNGCodec.encode(
            width: width, height: height, colorType: .gray, bitDepth: 8, interlaced: false, rows: pixels,
            rowBytes: width, palette: [], transparency: [])
    }

    /// Encodes any PNG layout, for tests: one value per sample, at most `2^bitDepth - 1`.
    ///
    /// - Parameters:
    ///   - samples: `width * height * colorType.channels` values, interleaved, rows top to bottom (palette
    ///     indices for `.palette`).
    ///   - palette: RGB triples, for `.palette` only.
    ///   - transparency: alpha values for the leading palette entries (a tRNS chunk), for `.palette` only.
    ///   - interlaced: whether to write Adam7-interlaced.
    package static func encode(
        width: Int, height: Int, colorType: PNGColorType, bitDepth: Int, samples: [UInt16],
        palette: [UInt8] = [], transparency: [UInt8] = [], interlaced: Bool = false
    ) throws(ImageError) -> [UInt8] {
        let channels = colorType.channels
        precondition(colorType.allowedBitDepths.contains(bitDepth), "PNG \(colorType) does not allow \(bitDepth) bits")
        precondition(width > 0 && height > 0 && samples.count == width * height * channels,
                     "a \(width)x\(height) \(colorType) image needs \(width * height * channels) samples")
        precondition(samples.allSatisfy { Int($0) < 1 << bitDepth }, "a sample exceeds \(bitDepth) bits")
        precondition(colorType == .palette || (palette.isEmpty && transparency.isEmpty),
                     "only palette images carry a palette or tRNS entries here")
        precondition(colorType != .palette || samples.allSatisfy { Int($0) < palette.count / 3 },
                     "a palette index is outside the palette")

        let samplesPerRow = width * channels
        let rowBytes = (samplesPerRow * bitDepth + 7) / 8
        var rows = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            for column in 0..<samplesPerRow {
                let value = samples[y * samplesPerRow + column]
                let rowStart = y * rowBytes
                switch bitDepth {
                case 16:
                    rows[rowStart + 2 * column] = UInt8(value >> 8)
                    rows[rowStart + 2 * column + 1] = UInt8(value & 0xFF)
                case 8:
                    rows[rowStart + column] = UInt8(value)
                default:
                    // Below 8 bits, samples fill each byte from its most significant bit.
                    let bit = column * bitDepth
                    rows[rowStart + bit / 8] |= UInt8(value) << (8 - bitDepth - bit % 8)
                }
            }
        }
        return try PNGCodec.encode(
            width: width, height: height, colorType: colorType, bitDepth: bitDepth, interlaced: interlaced,
            rows: rows, rowBytes: rowBytes, palette: palette, transparency: transparency)
    }
}
