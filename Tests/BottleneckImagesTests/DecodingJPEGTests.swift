import BottleneckImages
import Testing

/// JPEG decoding. JPEG is lossy, so decoded pixels are compared with their source within tolerances measured on
/// these smooth fixtures with margin to spare: a mean absolute error of a few levels (of 255) is what quality 90-95
/// costs; the largest single error is bounded more loosely, because 4:2:0 chroma subsampling smears colour at
/// sharp edges.
@Suite struct DecodingJPEGTests {
    let decoder = ImageDecoder()

    @Test func baselineRoundTripStaysClose() throws {
        let image = DecodingFixtures.gradient(width: 64, height: 48)
        let decoded = try decoder.decode(JPEGEncoder.encode(image, quality: 95), source: "gradient.jpg")
        #expect(decoded.width == 64 && decoded.height == 48)
        let difference = DecodingFixtures.differences(decoded.pixels, image.pixels)
        #expect(difference.mean < 2.0)
        #expect(difference.max < 24)
    }

    @Test func progressiveDecodesLikeBaseline() throws {
        let image = DecodingFixtures.gradient(width: 80, height: 56)
        let progressive = try JPEGEncoder.encode(image, quality: 95, progressive: true)
        #expect(progressive.contains(0xC2))  // SOF2 marker byte present (progressive DCT)
        let decoded = try decoder.decode(progressive, source: "progressive.jpg")
        let difference = DecodingFixtures.differences(decoded.pixels, image.pixels)
        #expect(difference.mean < 2.0)
        #expect(difference.max < 24)
    }

    @Test func grayscaleJPEGBecomesEqualChannels() throws {
        let width = 40
        let height = 24
        let gray = (0..<(width * height)).map { UInt8(($0 % width) * 6) }
        let jpeg = try JPEGEncoder.encodeGrayscale(width: width, height: height, pixels: gray, quality: 95)
        let decoded = try decoder.decode(jpeg, source: "gray.jpg")
        #expect(decoded.width == width && decoded.height == height)
        var maxError = 0
        for index in 0..<(width * height) {
            let rgb = decoded.pixels[(index * 3)..<(index * 3 + 3)]
            #expect(Set(rgb).count == 1)
            maxError = max(maxError, abs(Int(rgb.first!) - Int(gray[index])))
        }
        #expect(maxError < 12)  // one channel, no chroma subsampling: only quantisation error
    }

    /// An Adobe-style CMYK JPEG (inverted samples, APP14 marker) made from an RGB image decodes back to that RGB.
    /// Tolerance: 4:4:4 sampling but four quantised channels, each error scaled by the other ink in the product,
    /// and ±1 from the conversion's integer rounding.
    @Test func adobeCMYKJPEGDecodesToItsRGB() throws {
        let image = DecodingFixtures.gradient(width: 48, height: 32)
        var inverted = [UInt8]()
        for pixel in 0..<(image.width * image.height) {
            let rgb = image.pixels[(pixel * 3)..<(pixel * 3 + 3)].map(Int.init)
            let light = rgb.max()!  // under-colour removal: the most ink in K
            let ink = rgb.map { light == 0 ? 0 : 255 - ($0 * 255 + light / 2) / light }
            inverted += (ink + [255 - light]).map { UInt8(255 - $0) }
        }
        let jpeg = try JPEGEncoder.encodeCMYK(width: image.width, height: image.height, pixels: inverted, quality: 95)
        #expect(jpeg.count > 16 && Array("Adobe".utf8).allSatisfy(jpeg.contains))
        let decoded = try decoder.decode(jpeg, source: "cmyk.jpg")
        let difference = DecodingFixtures.differences(decoded.pixels, image.pixels)
        #expect(difference.mean < 3.0)
        #expect(difference.max < 24)
    }

    /// The CMYK conversion itself, exactly, for both storage conventions (values worked out from Pillow's
    /// `cmyk2rgb`: `R = (255 - k) - round((255 - k) * c / 255)`).
    @Test(arguments: [
        // plain C, M, Y, K          expected R, G, B
        ([0, 0, 0, 0], [255, 255, 255]),
        ([255, 255, 255, 0], [0, 0, 0]),
        ([0, 0, 0, 255], [0, 0, 0]),
        ([128, 64, 0, 51], [102, 153, 204]),
        ([10, 200, 90, 100], [149, 33, 100]),
    ])
    func cmykConversionMatchesPillow(plain: [Int], expected: [Int]) {
        let plainBytes = plain.map(UInt8.init)
        #expect(CMYKStorage.plain.rgb(fromCMYK: plainBytes).map(Int.init) == expected)
        #expect(CMYKStorage.inverted.rgb(fromCMYK: plainBytes.map { 255 - $0 }).map(Int.init) == expected)
    }

    @Test(arguments: [
        // minimum shorter side, expected size of a 2000x1500 JPEG
        (nil, 2000, 1500),
        (100, 250, 188),  // 1/8; TJSCALED rounds up: 1500 / 8 = 187.5 -> 188
        (188, 250, 188),
        (189, 500, 375),  // 1/8 would give 188 < 189
        (256, 500, 375),  // 1/4
        (700, 1000, 750),  // 1/2
        (1000, 2000, 1500),  // 1/2 gives 750 < 1000: full size
        (5000, 2000, 1500),  // never upscaled
    ] as [(Int?, Int, Int)])
    func dctScalingPicksSmallestSufficientFactor(minimumShorterSide: Int?, width: Int, height: Int) throws {
        let decoded = try decoder.decode(
            Self.large, source: "large.jpg", minimumShorterSide: minimumShorterSide)
        #expect(decoded.width == width && decoded.height == height)
    }

    /// At 1/4 scale each output pixel is (close to) the mean of a 4x4 block of the source: compare with that mean.
    @Test func scaledDecodeMatchesBlockMeans() throws {
        let decoded = try decoder.decode(Self.large, source: "large.jpg", minimumShorterSide: 256)
        let source = Self.largeImage
        var means = [UInt8]()
        for y in 0..<decoded.height {
            for x in 0..<decoded.width {
                for channel in 0..<3 {
                    var sum = 0
                    for dy in 0..<4 {
                        for dx in 0..<4 {
                            sum += Int(source.pixels[((4 * y + dy) * source.width + 4 * x + dx) * 3 + channel])
                        }
                    }
                    means.append(UInt8((sum + 8) / 16))
                }
            }
        }
        let difference = DecodingFixtures.differences(decoded.pixels, means)
        #expect(difference.mean < 2.0)
        #expect(difference.max < 24)
    }

    @Test func truncatedJPEGIsDamaged() throws {
        for progressive in [false, true] {
            let image = DecodingFixtures.gradient(width: 128, height: 96)
            let jpeg = try JPEGEncoder.encode(image, progressive: progressive)
            let truncated = Array(jpeg.prefix(jpeg.count * 6 / 10))
            let error = #expect(throws: ImageError.self) { try decoder.decode(truncated, source: "cut.jpg") }
            #expect(error?.code == .damaged)
            #expect(error?.reason.contains("truncated") == true)
        }
    }

    @Test func jpegCutInsideItsHeaderIsDamaged() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 32, height: 32))
        let error = #expect(throws: ImageError.self) { try decoder.decode(Array(jpeg.prefix(40)), source: "cut.jpg") }
        #expect(error?.code == .damaged)
    }

    /// libjpeg's recoverable "extraneous bytes before marker" warning is common in scraped datasets and Pillow
    /// accepts such files, so the decoder does too.
    @Test func extraneousBytesBeforeEOIAreTolerated() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 32, height: 32))
        #expect(Array(jpeg.suffix(2)) == [0xFF, 0xD9])
        let padded = Array(jpeg.dropLast(2)) + [0x12, 0x34, 0x56] + [0xFF, 0xD9]
        #expect(try decoder.decode(padded, source: "padded.jpg") == decoder.decode(jpeg, source: "clean.jpg"))
    }

    /// Junk bytes between header segments are skipped (libjpeg warns, Pillow accepts). TurboJPEG reports only that
    /// first warning, so truncation after it must still be caught, here by the missing EOI marker.
    @Test func junkBetweenSegmentsIsToleratedButTruncationIsStillCaught() throws {
        let jpeg = try JPEGEncoder.encode(DecodingFixtures.gradient(width: 256, height: 192))
        #expect(jpeg[3] == 0xE0)  // TurboJPEG writes JFIF APP0 first
        let app0End = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5]))
        let junk = Array(jpeg[..<app0End]) + [0x00, 0x13, 0x37] + Array(jpeg[app0End...])
        #expect(try decoder.decode(junk, source: "junk.jpg") == decoder.decode(jpeg, source: "clean.jpg"))
        let error = #expect(throws: ImageError.self) {
            try decoder.decode(Array(junk.prefix(junk.count * 6 / 10)), source: "junk-cut.jpg")
        }
        #expect(error?.code == .damaged)
        #expect(error?.reason.contains("truncated (no end-of-image marker") == true)
    }

    /// A 2000x1500 gradient, the size the scaling tests ask for.
    static let largeImage = DecodingFixtures.gradient(width: 2000, height: 1500)
    static let large = try! JPEGEncoder.encode(largeImage, quality: 90)
}
