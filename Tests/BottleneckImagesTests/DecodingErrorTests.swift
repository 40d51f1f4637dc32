import BottleneckImages
import Foundation
import Testing

/// Inputs that are not decodable images, and how they are reported.
@Suite struct DecodingErrorTests {
    let decoder = ImageDecoder()

    @Test func emptyBytesAreEmpty() {
        let error = #expect(throws: ImageError.self) { try decoder.decode([UInt8](), source: "none.jpg") }
        #expect(error?.code == .empty)
    }

    @Test func zeroByteFileIsEmpty() throws {
        let directory = try DecodingFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("empty.jpg")
        try Data().write(to: file)
        let error = #expect(throws: ImageError.self) { try decoder.decode(contentsOf: file) }
        #expect(error?.code == .empty)
        #expect(error?.source == file.path)
    }

    @Test func textFileNamedJPEGIsUnsupported() throws {
        let directory = try DecodingFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("notes.jpg")
        try Data("label,file\ncat,1.jpg\n".utf8).write(to: file)
        let error = #expect(throws: ImageError.self) { try decoder.decode(contentsOf: file) }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.reason.contains("a text file") == true)
    }

    @Test func pngNamedJPEGDecodes() throws {
        let directory = try DecodingFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = DecodingFixtures.gradient(width: 12, height: 10)
        let file = directory.appendingPathComponent("really-a-png.jpg")
        try Data(PNGEncoder.encode(image)).write(to: file)
        #expect(try decoder.decode(contentsOf: file) == image)
    }

    @Test func missingFileIsUnreadable() {
        let file = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/cat.jpg")
        let error = #expect(throws: ImageError.self) { try decoder.decode(contentsOf: file) }
        #expect(error?.code == .unreadable)
        #expect(error?.source == file.path)
        #expect(error?.reason.contains("no such file") == true)
    }

    @Test func directoryIsUnreadable() throws {
        let directory = try DecodingFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = #expect(throws: ImageError.self) { try decoder.decode(contentsOf: directory) }
        #expect(error?.code == .unreadable)
        #expect(error?.reason.contains("it is a directory") == true)
    }

    @Test func otherFormatsAreNamed() {
        let gif = Array("GIF89a".utf8) + [1, 0, 1, 0, 0x80, 0, 0]
        let error = #expect(throws: ImageError.self) { try decoder.decode(gif, source: "anim.jpg") }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.reason.contains("GIF") == true)
        #expect(error?.description.hasPrefix("cannot decode 'anim.jpg': the file is a GIF image") == true)
    }

    @Test func unknownBinaryShowsLeadingBytes() {
        let error = #expect(throws: ImageError.self) {
            try decoder.decode([0x00, 0x01, 0x02, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x09], source: "blob.jpg")
        }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.reason.contains("00 01 02 FE") == true)
    }

    @Test func descriptionNamesSourceAndReason() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 256, height: 192))
        let error = #expect(throws: ImageError.self) {
            try decoder.decode(Array(jpeg.prefix(jpeg.count * 6 / 10)), source: "cats/x.jpg")
        }
        #expect(error?.description.hasPrefix("cannot decode 'cats/x.jpg': the JPEG data is truncated (") == true)
    }

    // MARK: - Decompression bombs

    /// A 20000x20000 header (1.2 GB of RGB) is refused from the header alone: quickly, without allocating.
    @Test func hugeJPEGHeaderIsRefusedBeforeAllocating() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 16, height: 16))
        let bomb = DecodingFixtures.settingFrameSize(width: 20_000, height: 20_000, in: jpeg)
        try expectRefusedCheaply(bomb)
    }

    @Test func hugePNGHeaderIsRefusedBeforeAllocating() throws {
        let png = try PNGEncoder.encode(DecodingFixtures.gradient(width: 16, height: 16))
        let bomb = DecodingFixtures.settingHeaderSize(width: 20_000, height: 20_000, in: png)
        try expectRefusedCheaply(bomb)
    }

    private func expectRefusedCheaply(_ bytes: [UInt8]) throws {
        let residentBefore = Self.peakResidentBytes()
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: ImageError.self) { try decoder.decode(bytes, source: "bomb") }
        let elapsed = clock.now - start
        #expect(error?.code == .tooLarge)
        #expect(error?.reason.contains("20000x20000") == true)
        #expect(elapsed < .milliseconds(200))  // a header read takes microseconds; a decode would take seconds
        // Peak RSS is process-wide, so other tests running at once may raise it, but never by 1.2 GB.
        #expect(Self.peakResidentBytes() - residentBefore < 256 << 20)
    }

    /// The process's peak resident set size (`getrusage`: kilobytes on Linux, bytes on macOS).
    private static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
            precondition(getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0, "getrusage failed")
            return usage.ru_maxrss * 1024
        #else
            precondition(getrusage(RUSAGE_SELF, &usage) == 0, "getrusage failed")
            return usage.ru_maxrss
        #endif
    }

    @Test func pixelLimitIsInclusive() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 10, height: 10))
        #expect(try ImageDecoder(pixelLimit: 100).decode(jpeg, source: "ten.jpg").width == 10)
        let error = #expect(throws: ImageError.self) {
            try ImageDecoder(pixelLimit: 99).decode(jpeg, source: "ten.jpg")
        }
        #expect(error?.code == .tooLarge)
    }

    // MARK: - Other entry points

    @Test func dataOverloadMatchesArray() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 20, height: 12))
        #expect(try decoder.decode(Data(jpeg), source: "a.jpg") == decoder.decode(jpeg, source: "a.jpg"))
    }

    @Test func concurrentDecodesAgree() async throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 160, height: 120))
        let expected = try decoder.decode(jpeg, source: "shared.jpg", minimumShorterSide: 60)
        let decoder = self.decoder
        let results = try await withThrowingTaskGroup(of: RGBImage.self) { group in
            for _ in 0..<16 {
                group.addTask { try decoder.decode(jpeg, source: "shared.jpg", minimumShorterSide: 60) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 16 && results.allSatisfy { $0 == expected })
    }

    // MARK: - Format detection

    @Test func detectsByMagicBytes() {
        #expect(ImageFormat.detect([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ImageFormat.detect([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(ImageFormat.detect([0x89, 0x50, 0x4E, 0x47]) == nil)  // too short to be sure
        #expect(ImageFormat.detect(Array("GIF89a".utf8)) == nil)
        #expect(ImageFormat.detect([UInt8]()) == nil)
    }

    static let unsupportedHeaders: [(header: [UInt8], name: String)] = [
        (Array("GIF87a".utf8) + [0, 0], "GIF"),
        (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8), "WebP"),
        (Array("BM".utf8) + Array(repeating: 0, count: 20), "BMP"),
        ([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0], "TIFF"),
        ([0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8], "TIFF"),
        ([0, 0, 0, 0x18] + Array("ftypheic".utf8), "HEIC"),
        ([0, 0, 0, 0x1C] + Array("ftypavif".utf8), "AVIF"),
        (Array("%PDF-1.7\n".utf8) + [0xE2, 0xE3], "PDF"),
        (Array("\n<!DOCTYPE html><title>404</title>".utf8), "HTML"),
        (Array("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8), "SVG"),
        (Array("just some notes, café\n".utf8), "text"),
    ]

    @Test(arguments: unsupportedHeaders)
    func describesUnsupportedFormats(header: [UInt8], name: String) {
        #expect(ImageFormat.describeUnsupported(header)?.contains(name) == true)
    }

    @Test func describesNothingForSupportedOrUnknown() {
        #expect(ImageFormat.describeUnsupported([0xFF, 0xD8, 0xFF, 0xDB]) == nil)
        #expect(ImageFormat.describeUnsupported([0x00, 0x13, 0x37, 0x00]) == nil)
        #expect(ImageFormat.describeUnsupported([UInt8]()) == nil)
    }
}
