import CTurboJPEG

/// One TurboJPEG instance (a compressor or a decompressor), the only place that touches libjpeg-turbo.
///
/// An instance is not thread-safe, but creating one costs well under a microsecond (measured: 0.3 µs for
/// `tjInitDecompress` + `tjDestroy`), so each decode or encode makes its own and concurrent callers share
/// nothing.
final class TurboJPEG {
    /// How the JPEG stores colour (`TJCS`).
    enum Colorspace {
        case rgb, yCbCr, gray, cmyk, ycck
    }

    /// What `tjDecompressHeader3` reports.
    struct Header {
        let width: Int
        let height: Int
        let colorspace: Colorspace
    }

    /// The packed pixel layouts used here (`TJPF`).
    enum PixelFormat {
        case rgb, gray, cmyk

        var bytesPerPixel: Int {
            switch self {
            case .rgb: 3
            case .gray: 1
            case .cmyk: 4
            }
        }

        fileprivate var code: Int32 {
            switch self {
            case .rgb: Int32(TJPF_RGB.rawValue)
            case .gray: Int32(TJPF_GRAY.rawValue)
            case .cmyk: Int32(TJPF_CMYK.rawValue)
            }
        }
    }

    private let handle: tjhandle

    private init(handle: tjhandle) {
        self.handle = handle
    }

    deinit {
        let status = tjDestroy(handle)
        precondition(status == 0, "tjDestroy failed on a handle this class created")
    }

    /// A new decompressor. It fails only when memory runs out.
    static func decompressor() throws(DecodingFailure) -> TurboJPEG {
        guard let handle = tjInitDecompress() else {
            throw DecodingFailure(
                .unreadable, "TurboJPEG could not start a decompressor (\(globalErrorMessage)); memory is short")
        }
        return TurboJPEG(handle: handle)
    }

    /// A new compressor. It fails only when memory runs out.
    static func compressor() throws(CompressionFailure) -> TurboJPEG {
        guard let handle = tjInitCompress() else { throw CompressionFailure(message: globalErrorMessage) }
        return TurboJPEG(handle: handle)
    }

    /// Reads the frame header (size and colorspace) without decoding any pixels.
    func readHeader(_ jpeg: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) -> Header {
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let status = tjDecompressHeader3(
            handle, jpeg.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colorspace)
        // A warning (such as junk bytes between header segments) still yields the header, as in Pillow.
        guard status == 0 || tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
            throw DecodingFailure(
                .damaged, "the JPEG header is unreadable (\(errorMessage)); the file is damaged or truncated")
        }
        // A tables-only datastream (or a header cut before its frame) reads "successfully" with no size.
        guard width > 0, height > 0 else {
            throw DecodingFailure(.damaged, "the JPEG has no image frame; the file is damaged or truncated")
        }
        let kind: Colorspace
        switch colorspace {
        case Int32(TJCS_RGB.rawValue): kind = .rgb
        case Int32(TJCS_YCbCr.rawValue): kind = .yCbCr
        case Int32(TJCS_GRAY.rawValue): kind = .gray
        case Int32(TJCS_CMYK.rawValue): kind = .cmyk
        case Int32(TJCS_YCCK.rawValue): kind = .ycck
        default: throw DecodingFailure(.unsupportedFormat, "the JPEG uses an unknown colorspace (\(colorspace))")
        }
        return Header(width: Int(width), height: Int(height), colorspace: kind)
    }

    /// A problem libjpeg recovered from: the decode still produced every row.
    struct Warning {
        let message: String

        /// Whether libjpeg ran out of data ("Premature end of JPEG file", `JWRN_JPEG_EOF`) and filled the
        /// missing rows with grey.
        var isTruncation: Bool { message.contains("Premature end of JPEG file") }
    }

    /// Decodes into `output`, scaled by libjpeg's DCT scaling to exactly `width` x `height`, which must be
    /// `TJSCALED` of the image size and a supported factor, so that the output has exactly that size.
    ///
    /// Returns the first warning of the decode, if any: TurboJPEG keeps only the first. Without
    /// `TJFLAG_STOPONWARNING` every row has been decoded by then; the caller decides whether the warning is
    /// acceptable. Fatal errors throw `.damaged`, and so do progressive images with a pathological number of scans
    /// (`TJFLAG_LIMITSCANS`).
    func decompress(
        _ jpeg: UnsafeBufferPointer<UInt8>, width: Int, height: Int, format: PixelFormat,
        into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(DecodingFailure) -> Warning? {
        precondition(output.count == width * height * format.bytesPerPixel, "output buffer has the wrong size")
        let status = tjDecompress2(
            handle, jpeg.baseAddress, UInt(jpeg.count), output.baseAddress, Int32(width), 0, Int32(height),
            format.code, TJFLAG_LIMITSCANS)
        guard status != 0 else { return nil }
        guard tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
            throw DecodingFailure(
                .damaged, "the JPEG data is corrupt (\(errorMessage)); re-download or re-export the file")
        }
        return Warning(message: errorMessage)
    }

    /// Why compression failed.
    struct CompressionFailure: Error {
        let message: String
    }

    /// Encodes `pixels` (`width * height * format.bytesPerPixel` bytes) as a baseline or progressive JPEG.
    ///
    /// RGB is written as YCbCr with 4:2:0 chroma subsampling, gray as one component, and CMYK as YCCK with 4:4:4
    /// sampling and an Adobe APP14 marker; libjpeg stores the CMYK values as given, without inverting them.
    func compress(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, format: PixelFormat, quality: Int,
        progressive: Bool
    ) throws(CompressionFailure) -> [UInt8] {
        precondition(pixels.count == width * height * format.bytesPerPixel, "pixel buffer has the wrong size")
        let subsampling: TJSAMP =
            switch format {
            case .rgb: TJSAMP_420
            case .gray: TJSAMP_GRAY
            case .cmyk: TJSAMP_444
            }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        defer { tjFree(buffer) }
        let status = tjCompress2(
            handle, pixels.baseAddress, Int32(width), 0, Int32(height), format.code, &buffer, &size,
            Int32(subsampling.rawValue), Int32(quality), progressive ? TJFLAG_PROGRESSIVE : 0)
        guard status == 0, let buffer else { throw CompressionFailure(message: errorMessage) }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    /// This instance's last error message.
    private var errorMessage: String {
        String(cString: tjGetErrorStr2(handle))
    }

    /// The message of a failure that happened before an instance existed.
    private static var globalErrorMessage: String {
        String(cString: tjGetErrorStr2(nil))
    }
}
