import BottleneckImages
import Testing

/// PNG decoding: lossless, so every comparison is exact.
@Suite struct DecodingPNGTests {
    let decoder = ImageDecoder()

    @Test func rgbRoundTripIsExact() throws {
        let image = DecodingFixtures.gradient(width: 37, height: 23)
        #expect(try decoder.decode(PNGEncoder.encode(image), source: "rgb.png") == image)
    }

    @Test func grayscaleBecomesEqualChannels() throws {
        let gray = (0..<(19 * 7)).map { UInt8(($0 * 13) % 256) }
        let png = try PNGEncoder.encodeGrayscale(width: 19, height: 7, pixels: gray)
        let decoded = try decoder.decode(png, source: "g.png")
        #expect(decoded.width == 19 && decoded.height == 7)
        #expect(decoded.pixels == gray.flatMap { [$0, $0, $0] })
    }

    /// Gray below 8 bits is scaled to the full range: value * 255 / (2^depth - 1).
    @Test(arguments: [1, 2, 4])
    func lowBitDepthGrayIsScaled(bitDepth: Int) throws {
        let maximum = (1 << bitDepth) - 1
        let samples = (0..<(13 * 3)).map { UInt16($0 % (maximum + 1)) }
        let png = try PNGEncoder.encode(width: 13, height: 3, colorType: .gray, bitDepth: bitDepth, samples: samples)
        let decoded = try decoder.decode(png, source: "low.png")
        #expect(decoded.pixels == samples.flatMap { sample in
            let value = UInt8(Int(sample) * 255 / maximum)
            return [value, value, value]
        })
    }

    @Test func sixteenBitRGBKeepsHighBytes() throws {
        let samples = (0..<(9 * 5 * 3)).map { UInt16(($0 * 2_654_435_761) & 0xFFFF) }
        let png = try PNGEncoder.encode(width: 9, height: 5, colorType: .rgb, bitDepth: 16, samples: samples)
        let decoded = try decoder.decode(png, source: "deep.png")
        #expect(decoded.pixels == samples.map { UInt8($0 >> 8) })
    }

    @Test func sixteenBitGrayKeepsHighBytes() throws {
        let samples = (0..<(6 * 4)).map { UInt16($0 * 2_700 + 255) }
        let png = try PNGEncoder.encode(width: 6, height: 4, colorType: .gray, bitDepth: 16, samples: samples)
        let decoded = try decoder.decode(png, source: "deep-gray.png")
        #expect(decoded.pixels == samples.flatMap { Array(repeating: UInt8($0 >> 8), count: 3) })
    }

    @Test(arguments: [1, 2, 4, 8])
    func paletteIsExpanded(bitDepth: Int) throws {
        let colors = min(1 << bitDepth, 5)
        let palette: [UInt8] = [10, 20, 30, 200, 100, 0, 0, 255, 128, 77, 77, 77, 255, 255, 255]
        let indices = (0..<(11 * 4)).map { UInt16(($0 * 7) % colors) }
        let png = try PNGEncoder.encode(
            width: 11, height: 4, colorType: .palette, bitDepth: bitDepth, samples: indices,
            palette: Array(palette.prefix(colors * 3)))
        let decoded = try decoder.decode(png, source: "palette.png")
        #expect(decoded.pixels == indices.flatMap { palette[(Int($0) * 3)..<(Int($0) * 3 + 3)] })
    }

    /// tRNS transparency is ignored: transparent palette entries keep their RGB.
    @Test func paletteTransparencyIsDropped() throws {
        let palette: [UInt8] = [10, 20, 30, 200, 100, 0, 0, 255, 128]
        let indices: [UInt16] = [0, 1, 2, 2, 1, 0]
        let png = try PNGEncoder.encode(
            width: 3, height: 2, colorType: .palette, bitDepth: 8, samples: indices, palette: palette,
            transparency: [0, 128])
        let decoded = try decoder.decode(png, source: "transparent.png")
        #expect(decoded.pixels == indices.flatMap { palette[(Int($0) * 3)..<(Int($0) * 3 + 3)] })
    }

    /// Alpha is dropped, not composited: RGB comes through unchanged whatever the alpha.
    @Test func rgbaAlphaIsDropped() throws {
        let image = DecodingFixtures.gradient(width: 8, height: 6)
        var samples = [UInt16]()
        for pixel in 0..<(8 * 6) {
            samples += image.pixels[(pixel * 3)..<(pixel * 3 + 3)].map(UInt16.init) + [UInt16(pixel * 5 % 256)]
        }
        let png = try PNGEncoder.encode(width: 8, height: 6, colorType: .rgba, bitDepth: 8, samples: samples)
        #expect(try decoder.decode(png, source: "rgba.png") == image)
    }

    @Test func grayAlphaDropsAlpha() throws {
        let samples: [UInt16] = [0, 255, 100, 0, 200, 17, 255, 128]
        let png = try PNGEncoder.encode(width: 2, height: 2, colorType: .grayAlpha, bitDepth: 8, samples: samples)
        let decoded = try decoder.decode(png, source: "gray-alpha.png")
        #expect(decoded.pixels == [0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255])
    }

    @Test func sixteenBitRGBADropsAlphaAndKeepsHighBytes() throws {
        let samples: [UInt16] = [0x1234, 0xABCD, 0xFF00, 0x0001, 0x00FF, 0x8080, 0x7F7F, 0xFFFF]
        let png = try PNGEncoder.encode(width: 2, height: 1, colorType: .rgba, bitDepth: 16, samples: samples)
        #expect(try decoder.decode(png, source: "rgba16.png").pixels == [0x12, 0xAB, 0xFF, 0x00, 0x80, 0x7F])
    }

    @Test func interlacedDecodesLikeProgressiveOrder() throws {
        let image = DecodingFixtures.gradient(width: 33, height: 17)
        let samples = image.pixels.map(UInt16.init)
        let png = try PNGEncoder.encode(
            width: 33, height: 17, colorType: .rgb, bitDepth: 8, samples: samples, interlaced: true)
        #expect(png != (try PNGEncoder.encode(image)))
        #expect(try decoder.decode(png, source: "adam7.png") == image)
    }

    @Test func truncatedPNGIsDamaged() throws {
        let png = try PNGEncoder.encode(DecodingFixtures.gradient(width: 64, height: 64))
        let error = #expect(throws: ImageError.self) {
            try decoder.decode(Array(png.prefix(png.count / 2)), source: "cut.png")
        }
        #expect(error?.code == .damaged)
        #expect(error?.reason.contains("truncated") == true)
    }

    @Test func corruptHeaderChecksumIsDamaged() throws {
        let png = try PNGEncoder.encode(DecodingFixtures.gradient(width: 4, height: 4))
        let stale = DecodingFixtures.settingHeaderSize(width: 5, height: 4, in: png, fixCRC: false)
        let error = #expect(throws: ImageError.self) { try decoder.decode(stale, source: "crc.png") }
        #expect(error?.code == .damaged)
        #expect(error?.reason.contains("CRC") == true)
    }
}
