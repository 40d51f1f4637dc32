import BottleneckImages
import Foundation
import Testing

/// Bit-level agreement with Pillow, the reference's resampler (run through the project venv).
@Suite struct PreprocessingPillowTests {
    /// The golden inputs of ../shared/reference were made by Pillow from these images: from Pillow's own decoded
    /// pixels, our resize + crop + normalisation must give the same floats. Pillow's 8-bit arithmetic is
    /// reproduced exactly, so the expected difference is 0 (the README's bar would allow one 8-bit level, 1/128).
    @Test(arguments: PreprocessingTestSupport.goldenImages)
    func goldenInputFromPillowPixels(_ file: String) throws {
        let image = try #require(try PreprocessingTestSupport.pillowDecodedGoldenImages()[file])
        let stem = String(file.split(separator: ".")[0])
        let golden = try PreprocessingTestSupport.floats(
            PreprocessingTestSupport.goldenDirectory.appendingPathComponent("\(stem).input.f32"))
        let expected = PreprocessingTestSupport.nchwToNHWC(golden, channels: 3, height: 224, width: 224)
        let ours = Preprocessor(spec: .efficientNetLite0).prepare(image)
        let difference = PreprocessingTestSupport.maximumDifference(ours, expected)
        print("golden input \(file) \(image.width)x\(image.height): max |ours - Pillow| = \(difference)")
        #expect(difference == 0, "\(file): preprocessing differs from Pillow's by up to \(difference)")
        #expect(difference <= 1.0 / 128)
    }

    /// Random image and output sizes (up and down, odd, tiny, one axis unchanged) resized by Pillow and by the
    /// fast path: identical bytes, for the whole output and for windows of it.
    @Test func resizeMatchesPillowExactly() throws {
        let cases: [(width: Int, height: Int, outWidth: Int, outHeight: Int)] = [
            (451, 300, 385, 256), (640, 427, 384, 256), (600, 400, 384, 256), (400, 328, 312, 256),
            (512, 512, 256, 256), (37, 23, 61, 17), (101, 67, 13, 29), (8, 5, 3, 11), (1, 1, 5, 3),
            (257, 3, 256, 2), (3, 257, 7, 256), (1000, 17, 999, 17), (64, 48, 64, 96), (5, 7, 5, 7),
            (333, 251, 100, 100), (123, 321, 40, 500), (2, 2, 1, 1), (719, 541, 341, 256),
        ]
        let directory = try PreprocessingTestSupport.temporaryDirectory("pillow-resize")
        defer { try? FileManager.default.removeItem(at: directory) }
        var images: [RGBImage] = []
        for (index, size) in cases.enumerated() {
            let image = PreprocessingTestSupport.syntheticImage(width: size.width, height: size.height,
                                                                seed: UInt64(index + 1))
            images.append(image)
            try Data(image.pixels).write(to: directory.appendingPathComponent("case\(index).in"))
        }
        let spec = cases.enumerated().map { "\($0.offset) \($0.element.width) \($0.element.height)"
            + " \($0.element.outWidth) \($0.element.outHeight)" }.joined(separator: ";")
        try PreprocessingTestSupport.runPython("""
            import sys, os
            from PIL import Image
            out = sys.argv[1]
            for case in sys.argv[2].split(';'):
                i, w, h, ow, oh = map(int, case.split())
                im = Image.frombytes('RGB', (w, h), open(os.path.join(out, 'case%d.in' % i), 'rb').read())
                data = im.resize((ow, oh), Image.BILINEAR).tobytes()
                open(os.path.join(out, 'case%d.out' % i), 'wb').write(data)
            """, arguments: [directory.path, spec])
        for (index, size) in cases.enumerated() {
            let expected = try [UInt8](Data(contentsOf: directory.appendingPathComponent("case\(index).out")))
            let full = images[index].resizedBilinear(width: size.outWidth, height: size.outHeight)
            #expect(full.pixels.count == expected.count)
            let mismatches = zip(full.pixels, expected).filter { $0.0 != $0.1 }.count
            #expect(mismatches == 0, "\(size): \(mismatches) of \(expected.count) values differ from Pillow")
            // A window of the output (what the preprocessor computes) equals that part of the whole.
            let window = (x: size.outWidth / 3, y: size.outHeight / 4,
                          width: max(1, size.outWidth / 2), height: max(1, size.outHeight / 2))
            let part = images[index].resizedBilinear(width: size.outWidth, height: size.outHeight, window: window)
            var partMismatches = 0
            for y in 0..<window.height {
                for x in 0..<(window.width * 3) {
                    let value = expected[((window.y + y) * size.outWidth + window.x) * 3 + x]
                    if part.pixels[y * window.width * 3 + x] != value { partMismatches += 1 }
                }
            }
            #expect(partMismatches == 0, "\(size) window \(window): \(partMismatches) values differ from Pillow")
        }
    }
}
