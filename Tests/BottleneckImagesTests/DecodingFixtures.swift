import BottleneckImages
import Foundation

/// Synthetic images and byte surgery for the decoding tests: every fixture is made in memory or in a temporary
/// directory, with the package's own encoders.
enum DecodingFixtures {
    /// A smooth, colourful image (red across, green down, blue in diagonal waves): JPEG keeps it well, so
    /// round-trip errors stay small and stable.
    static func gradient(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let index = (y * width + x) * 3
                pixels[index] = UInt8(x * 255 / max(width - 1, 1))
                pixels[index + 1] = UInt8(y * 255 / max(height - 1, 1))
                pixels[index + 2] = UInt8(128 + 100 * sin(Double(x + y) / 17))
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Six clearly different colours, one per cell of a 3 x 2 grid, read row by row ("A B C" over "D E F").
    static let cellColors: [[UInt8]] = [
        [230, 30, 30], [30, 200, 30], [30, 30, 220],
        [230, 230, 40], [220, 40, 220], [40, 220, 220],
    ]

    /// A 3 x 2 grid of flat `cellSize`-pixel squares in `cellColors`. With 16-pixel cells every cell is whole
    /// 4:2:0 MCUs, so JPEG keeps the colour at each cell's centre nearly exact.
    static func cells(cellSize: Int = 16) -> RGBImage {
        let width = 3 * cellSize
        let height = 2 * cellSize
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let color = cellColors[(y / cellSize) * 3 + x / cellSize]
                pixels.replaceSubrange(((y * width + x) * 3)..<((y * width + x) * 3 + 3), with: color)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The pixel at `(x, y)`.
    static func pixel(_ image: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
        let index = (y * image.width + x) * 3
        return Array(image.pixels[index..<(index + 3)])
    }

    /// The mean and the largest absolute difference between two equally long byte arrays.
    static func differences(_ a: [UInt8], _ b: [UInt8]) -> (mean: Double, max: Int) {
        precondition(a.count == b.count, "compared arrays differ in length")
        var sum = 0
        var largest = 0
        for (x, y) in zip(a, b) {
            let difference = abs(Int(x) - Int(y))
            sum += difference
            largest = max(largest, difference)
        }
        return (Double(sum) / Double(max(a.count, 1)), largest)
    }

    // MARK: - JPEG surgery

    /// An APP1 EXIF segment whose IFD0 holds one Orientation entry (SHORT) with `value`.
    static func exifSegment(orientation value: UInt16, bigEndian: Bool) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] {
            bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)]
        }
        func u32(_ v: UInt32) -> [UInt8] {
            let bytes = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
            return bigEndian ? bytes : bytes.reversed()
        }
        let tiff: [UInt8] =
            (bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]) + u16(42) + u32(8)  // header, IFD0 at offset 8
            + u16(1)  // one entry
            + u16(0x0112) + u16(3) + u32(1) + u16(value) + u16(0)  // Orientation, SHORT, count 1, value, padding
            + u32(0)  // no next IFD
        return app1(payload: Array("Exif\0\0".utf8) + tiff)
    }

    /// An APP1 segment with `payload`.
    static func app1(payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    /// `jpeg` with `segment` inserted right after SOI.
    static func inserting(_ segment: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
        Array(jpeg[0..<2]) + segment + Array(jpeg[2...])
    }

    /// `jpeg` with the size in its start-of-frame header replaced (the image data is left as it was).
    static func settingFrameSize(width: Int, height: Int, in jpeg: [UInt8]) -> [UInt8] {
        var bytes = jpeg
        var position = 2
        while position + 9 < bytes.count {
            precondition(bytes[position] == 0xFF, "fixture JPEG has no marker at \(position)")
            let marker = bytes[position + 1]
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                bytes[position + 5] = UInt8(height >> 8)
                bytes[position + 6] = UInt8(height & 0xFF)
                bytes[position + 7] = UInt8(width >> 8)
                bytes[position + 8] = UInt8(width & 0xFF)
                return bytes
            }
            position += 2 + length
        }
        preconditionFailure("fixture JPEG has no start-of-frame marker")
    }

    // MARK: - PNG surgery

    /// `png` with the size in IHDR replaced and the chunk's CRC recomputed (or left stale).
    static func settingHeaderSize(width: UInt32, height: UInt32, in png: [UInt8], fixCRC: Bool = true) -> [UInt8] {
        var bytes = png
        precondition(Array(bytes[12..<16]) == Array("IHDR".utf8), "fixture PNG does not start with IHDR")
        for (offset, value) in [(16, width), (20, height)] {
            for index in 0..<4 { bytes[offset + index] = UInt8((value >> (24 - 8 * UInt32(index))) & 0xFF) }
        }
        if fixCRC {
            let crc = crc32(bytes[12..<29])  // chunk type and 13 data bytes
            for index in 0..<4 { bytes[29 + index] = UInt8((crc >> (24 - 8 * UInt32(index))) & 0xFF) }
        }
        return bytes
    }

    /// CRC-32 as PNG computes it (ISO 3309, reflected polynomial 0xEDB88320).
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    // MARK: - Files

    /// A new empty directory under the system's temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bottleneck-images-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
