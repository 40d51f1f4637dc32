import BottleneckImages
import Testing

/// EXIF orientation: the stored image is turned upright after decoding.
@Suite struct DecodingOrientationTests {
    /// Where each orientation puts the cells of the 3 x 2 grid "A B C / D E F" (indices 0...5), row by row,
    /// worked out by hand from the EXIF specification.
    static let expectedGrids: [Int: [[Int]]] = [
        1: [[0, 1, 2], [3, 4, 5]],  // identity
        2: [[2, 1, 0], [5, 4, 3]],  // mirror left-right
        3: [[5, 4, 3], [2, 1, 0]],  // rotate 180
        4: [[3, 4, 5], [0, 1, 2]],  // mirror top-bottom
        5: [[0, 3], [1, 4], [2, 5]],  // transpose
        6: [[3, 0], [4, 1], [5, 2]],  // rotate 90 clockwise
        7: [[5, 2], [4, 1], [3, 0]],  // transverse
        8: [[2, 5], [1, 4], [0, 3]],  // rotate 270 clockwise
    ]

    @Test(arguments: ExifOrientation.allCases)
    func orientationMovesPixelsExactly(orientation: ExifOrientation) {
        // One pixel per cell, colour = cell index: no compression, so the comparison is exact.
        let image = RGBImage(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8($0), 0, 0] })
        let turned = orientation.apply(to: image)
        let grid = Self.expectedGrids[orientation.rawValue]!
        #expect(turned.height == grid.count && turned.width == grid[0].count)
        #expect(turned.pixels == grid.flatMap { $0 }.flatMap { [UInt8($0), 0, 0] })
    }

    @Test(arguments: 1...8, [false, true])
    func exifOrientedJPEGLandsUpright(orientation: Int, bigEndian: Bool) throws {
        let cellSize = 16
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.cells(cellSize: cellSize), quality: 95)
        let oriented = DecodingFixtures.inserting(
            DecodingFixtures.exifSegment(orientation: UInt16(orientation), bigEndian: bigEndian), into: jpeg)
        let decoded = try ImageDecoder().decode(oriented, source: "oriented.jpg")
        let grid = Self.expectedGrids[orientation]!
        #expect(decoded.height == grid.count * cellSize && decoded.width == grid[0].count * cellSize)
        for (row, cells) in grid.enumerated() {
            for (column, cell) in cells.enumerated() {
                let centre = DecodingFixtures.pixel(
                    decoded, column * cellSize + cellSize / 2, row * cellSize + cellSize / 2)
                let expected = DecodingFixtures.cellColors[cell]
                // Flat cells aligned to whole MCUs: only quantisation error at their centres.
                #expect(zip(centre, expected).allSatisfy { abs(Int($0) - Int($1)) <= 10 },
                        "orientation \(orientation): cell \(cell) expected at row \(row), column \(column)")
            }
        }
    }

    @Test func orientationAppliesAfterDCTScaling() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 640, height: 480))
        let exif = DecodingFixtures.exifSegment(orientation: 6, bigEndian: true)
        let rotated = DecodingFixtures.inserting(exif, into: jpeg)
        let decoded = try ImageDecoder().decode(rotated, source: "rotated.jpg", minimumShorterSide: 100)
        #expect(decoded.width == 120 && decoded.height == 160)  // 1/4 scale: 160x120, then turned
    }

    /// Malformed EXIF never fails a decode and never moves pixels.
    @Test(arguments: [
        Array("Exif\0\0".utf8),  // no TIFF header
        Array("Exif\0\0".utf8) + [0x49, 0x49, 0x2A, 0x00, 0xFF, 0xFF, 0xFF, 0x7F],  // IFD0 far outside
        Array("Exif\0\0".utf8) + [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8, 0xFF, 0xFF],  // 65535 entries, none present
        Array("Exif\0\0".utf8) + [0x58, 0x58, 0x2A, 0x00, 0, 0, 0, 8],  // unknown byte order
        Array("Exif\0\0".utf8) + [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 9, 0, 0],
        // ^ orientation 9 does not exist
        Array("Exif\0\0".utf8) + [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 2, 0, 0, 0, 1, 0, 6, 0, 0],
        // ^ orientation 6 stored as ASCII, a wrong type
        Array("Exif\0\0".utf8) + (0..<300).map { UInt8(($0 * 37) % 256) },  // noise
    ])
    func malformedExifIsIgnored(payload: [UInt8]) throws {
        let image = DecodingFixtures.cells()
        let jpeg = try JPEGEncoder.encode(image, quality: 95)
        let withExif = DecodingFixtures.inserting(DecodingFixtures.app1(payload: payload), into: jpeg)
        let decoded = try ImageDecoder().decode(withExif, source: "odd-exif.jpg")
        #expect(decoded == (try ImageDecoder().decode(jpeg, source: "plain.jpg")))
    }

    @Test func segmentLengthPastTheEndIsIgnored() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.cells(), quality: 95)
        // An APP1 whose length claims 65535 bytes: libjpeg refuses the file, the EXIF parser must not crash.
        let broken = DecodingFixtures.inserting([0xFF, 0xE1, 0xFF, 0xFF] + Array("Exif\0\0".utf8), into: jpeg)
        let error = #expect(throws: ImageError.self) { try ImageDecoder().decode(broken, source: "broken.jpg") }
        #expect(error?.code == .damaged)
    }
}
