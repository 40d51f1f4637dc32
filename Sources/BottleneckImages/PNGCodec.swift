import CPNGShim

/// PNG decoding and encoding through libpng, by way of the setjmp-safe CPNGShim; the only place that touches
/// libpng.
enum PNGCodec {
    /// Decodes a PNG to 8-bit RGB: 16-bit samples keep their high byte, gray is replicated, palettes expanded,
    /// alpha and tRNS transparency dropped (not composited), as Pillow's `convert("RGB")` does. (For 16-bit gray
    /// Pillow clips values above 255 to white instead; the high byte keeps the picture.)
    ///
    /// - Parameters:
    ///   - png: the whole file.
    ///   - pixelLimit: the largest `width * height` accepted, checked against IHDR before any pixel memory is
    ///     allocated.
    static func decode(_ png: UnsafeBufferPointer<UInt8>, pixelLimit: Int) throws(DecodingFailure) -> RGBImage {
        guard let reader = Reader(png) else {
            throw DecodingFailure(.unreadable, "libpng could not start a reader; memory is short")
        }
        let (width, height) = try reader.readHeader()
        guard width * height <= pixelLimit else {
            throw .tooLarge(width: width, height: height, limit: pixelLimit)
        }
        let count = width * height * 3
        var failure: DecodingFailure?
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            do throws(DecodingFailure) {
                try reader.readRGB(into: buffer)
                initializedCount = count
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Encodes rows already packed as PNG stores them.
    ///
    /// - Parameters:
    ///   - rows: `height` rows of `rowBytes` bytes (16-bit samples big-endian, depths below 8 packed from the most
    ///     significant bit).
    ///   - palette: RGB triples, for `.palette` images only.
    ///   - transparency: one alpha value per leading palette entry (a tRNS chunk), for `.palette` images only.
    static func encode(
        width: Int, height: Int, colorType: PNGColorType, bitDepth: Int, interlaced: Bool, rows: [UInt8],
        rowBytes: Int, palette: [UInt8], transparency: [UInt8]
    ) throws(ImageError) -> [UInt8] {
        precondition(width > 0 && height > 0 && rows.count == rowBytes * height, "rows do not match the image size")
        precondition(palette.count % 3 == 0 && palette.count <= 768, "a palette holds up to 256 RGB triples")
        precondition(transparency.count <= palette.count / 3, "tRNS has at most one entry per palette colour")
        let source = "a \(width)x\(height) PNG image"
        guard let writer = Writer() else {
            throw ImageError(
                .encodingFailed, source: source, reason: "libpng could not start a writer; memory is short")
        }
        let status = cpng_writer_encode(
            writer.handle, UInt32(width), UInt32(height), Int32(colorType.rawValue), Int32(bitDepth),
            interlaced ? 1 : 0, rows, rowBytes, palette, Int32(palette.count / 3), transparency,
            Int32(transparency.count))
        guard status == 0 else {
            throw ImageError(.encodingFailed, source: source, reason: "libpng failed: \(writer.message)")
        }
        return writer.encoded
    }

    /// Owns a `cpng_reader`; the bytes it reads must outlive it.
    private final class Reader {
        private let handle: OpaquePointer

        init?(_ png: UnsafeBufferPointer<UInt8>) {
            guard let handle = cpng_reader_create(png.baseAddress, png.count) else { return nil }
            self.handle = handle
        }

        deinit {
            cpng_reader_destroy(handle)
        }

        func readHeader() throws(DecodingFailure) -> (width: Int, height: Int) {
            var width: UInt32 = 0
            var height: UInt32 = 0
            guard cpng_reader_read_header(handle, &width, &height) == 0 else { throw damaged() }
            return (Int(width), Int(height))
        }

        func readRGB(into buffer: UnsafeMutableBufferPointer<UInt8>) throws(DecodingFailure) {
            guard cpng_reader_read_rgb(handle, buffer.baseAddress, buffer.count) == 0 else { throw damaged() }
        }

        private func damaged() -> DecodingFailure {
            let message = String(cString: cpng_reader_message(handle))
            return DecodingFailure(.damaged, "the PNG data is damaged (\(message)); re-download or re-export the file")
        }
    }

    /// Owns a `cpng_writer` and the encoded bytes it holds.
    private final class Writer {
        let handle: OpaquePointer

        init?() {
            guard let handle = cpng_writer_create() else { return nil }
            self.handle = handle
        }

        deinit {
            cpng_writer_destroy(handle)
        }

        /// A copy of the encoded bytes.
        var encoded: [UInt8] {
            Array(UnsafeBufferPointer(start: cpng_writer_data(handle), count: cpng_writer_size(handle)))
        }

        var message: String { String(cString: cpng_writer_message(handle)) }
    }
}
