/// What the decoder needs from a JPEG's marker segments before the image data: the EXIF orientation (APP1),
/// whether an Adobe APP14 marker is present (it decides how CMYK samples are stored), and where the first scan
/// starts.
///
/// Parsing never fails: a malformed segment or EXIF block is ignored, leaving the defaults (upright, no marker).
struct JPEGMetadata {
    private(set) var orientation = ExifOrientation.identity
    private(set) var hasAdobeMarker = false
    /// The offset of the first SOS marker, if the walk reached it.
    private var firstScanOffset: Int?

    /// Walks the marker segments from SOI up to the first SOS. Junk bytes between segments are skipped, as
    /// libjpeg skips them (with a warning).
    init(_ jpeg: UnsafeBufferPointer<UInt8>) {
        var sawExif = false
        var position = 2  // after SOI (FF D8)
        while position + 4 <= jpeg.count {
            guard jpeg[position] == 0xFF else {
                position += 1
                continue
            }
            let marker = jpeg[position + 1]
            if marker == 0xFF {  // fill byte before a marker
                position += 1
                continue
            }
            if marker == 0xDA {
                firstScanOffset = position
                return
            }
            if marker == 0xD9 { return }  // EOI: no image data
            if marker == 0x00 || marker == 0x01 || (0xD0...0xD8).contains(marker) {  // no length follows
                position += 2
                continue
            }
            let length = Int(jpeg[position + 2]) << 8 | Int(jpeg[position + 3])
            let end = position + 2 + length
            guard length >= 2, end <= jpeg.count else { return }
            let payload = UnsafeBufferPointer(rebasing: jpeg[(position + 4)..<end])
            if marker == 0xE1, !sawExif, payload.starts(with: Self.exifSignature) {
                sawExif = true
                let tiff = UnsafeBufferPointer(rebasing: payload[Self.exifSignature.count...])
                orientation = Self.orientation(inTIFF: tiff) ?? .identity
            } else if marker == 0xEE, payload.starts(with: Self.adobeSignature) {
                hasAdobeMarker = true
            }
            position = end
        }
    }

    /// Whether an EOI marker (FF D9) follows the first scan. Entropy-coded data never contains FF D9 (a data byte
    /// FF is stuffed as FF 00), so a stream without one was cut short. `true` when the first scan was not found.
    func hasEndOfImageMarker(in jpeg: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let firstScanOffset else { return true }
        var position = firstScanOffset
        while position + 1 < jpeg.count {
            if jpeg[position] == 0xFF && jpeg[position + 1] == 0xD9 { return true }
            position += 1
        }
        return false
    }

    private static let exifSignature: [UInt8] = Array("Exif\0\0".utf8)
    private static let adobeSignature: [UInt8] = Array("Adobe".utf8)
    private static let orientationTag = 0x0112

    /// The Orientation tag of IFD0 in a TIFF structure (the body of an EXIF segment), or `nil` when it is absent
    /// or anything on the way is malformed.
    private static func orientation(inTIFF tiff: UnsafeBufferPointer<UInt8>) -> ExifOrientation? {
        let bigEndian: Bool
        if tiff.starts(with: [0x49, 0x49, 0x2A, 0x00]) {  // "II*\0"
            bigEndian = false
        } else if tiff.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {  // "MM\0*"
            bigEndian = true
        } else {
            return nil
        }
        func integer(at offset: Int, bytes: Int) -> Int? {
            guard offset >= 0, offset + bytes <= tiff.count else { return nil }
            var value = 0
            for index in 0..<bytes {
                let byte = Int(tiff[offset + (bigEndian ? index : bytes - 1 - index)])
                value = value << 8 | byte
            }
            return value
        }
        guard let directory = integer(at: 4, bytes: 4), let entryCount = integer(at: directory, bytes: 2) else {
            return nil
        }
        for entry in 0..<entryCount {
            let offset = directory + 2 + entry * 12
            guard let tag = integer(at: offset, bytes: 2), let type = integer(at: offset + 2, bytes: 2) else {
                return nil
            }
            guard tag == orientationTag else { continue }
            // The value sits in the entry itself: SHORT (type 3) is the standard, LONG (4) is seen in the wild.
            let value: Int? =
                switch type {
                case 3: integer(at: offset + 8, bytes: 2)
                case 4: integer(at: offset + 8, bytes: 4)
                default: nil
                }
            return value.flatMap(ExifOrientation.init(rawValue:))
        }
        return nil
    }
}
