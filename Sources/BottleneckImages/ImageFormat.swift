/// The image formats the decoder reads, recognised by their leading bytes (never by file extension).
public enum ImageFormat: String, Sendable {
    case jpeg
    case png

    /// The format whose signature `header` starts with, or `nil` if it is neither JPEG nor PNG.
    ///
    /// - Parameter header: the first bytes of the file; 8 are enough.
    public static func detect(_ header: some Collection<UInt8>) -> ImageFormat? {
        if header.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if header.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }

    /// A name for a recognisable format that is not decoded ("a GIF image", "an HTML page", "a text file"), for
    /// error messages; `nil` for JPEG and PNG and for bytes that match nothing known.
    ///
    /// - Parameter header: the first bytes of the file; 512 are enough.
    public static func describeUnsupported(_ header: some Collection<UInt8>) -> String? {
        let bytes = Array(header.prefix(512))
        if bytes.isEmpty || detect(bytes) != nil { return nil }
        func starts(_ text: String, at offset: Int = 0) -> Bool {
            bytes.count >= offset && bytes[offset...].starts(with: Array(text.utf8))
        }
        if starts("GIF87a") || starts("GIF89a") { return "a GIF image" }
        if starts("RIFF") && starts("WEBP", at: 8) { return "a WebP image" }
        if starts("BM") && bytes.count >= 14 { return "a BMP image" }
        if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            return "a TIFF image"
        }
        if starts("ftyp", at: 4), bytes.count >= 12 {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            switch brand {
            case "avif", "avis": return "an AVIF image"
            case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1": return "an HEIC/HEIF image"
            default: return "an ISO media file (brand '\(brand)'), such as a video"
            }
        }
        if starts("%PDF") { return "a PDF document" }
        if bytes.starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20])  // JP2 box
            || bytes.starts(with: [0xFF, 0x4F, 0xFF, 0x51])  // raw codestream
        {
            return "a JPEG 2000 image"
        }
        if bytes.starts(with: [0xFF, 0x0A]) || starts("JXL ", at: 4) { return "a JPEG XL image" }
        if isText(bytes) {
            let text = String(decoding: bytes, as: UTF8.self)
                .drop { $0 == "\u{FEFF}" || $0.isWhitespace }
                .lowercased()
            if text.hasPrefix("<!doctype html") || text.hasPrefix("<html") {
                return "an HTML page (often a web server's error page saved in place of an image)"
            }
            if text.hasPrefix("<svg") || (text.hasPrefix("<?xml") && text.contains("<svg")) { return "an SVG image" }
            return "a text file"
        }
        return nil
    }

    /// Whether the bytes look like text: no control characters other than whitespace (UTF-8 is allowed).
    private static func isText(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { byte in
            byte >= 0x20 && byte != 0x7F || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
        }
    }
}
