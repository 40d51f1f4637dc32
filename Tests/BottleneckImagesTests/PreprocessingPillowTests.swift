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

    /// Synthetic images of many shapes (wide, tall, more than twice as tall as wide, smaller than the crop,
    /// already 256) through the reference's own preprocessing code (make_reference.py `preprocess`, from raw
    /// pixels) and through ours: identical floats.
    @Test func preprocessingMatchesTheReferenceScript() throws {
        let sizes = [(640, 480), (480, 640), (451, 300), (230, 700), (256, 256), (100, 80), (224, 224),
                     (1001, 257), (257, 1001), (3000, 2000), (299, 299), (225, 900),
                     // more than twice as tall as wide and shrinking: Pillow 13 resizes vertically first
                     (300, 900), (500, 1600),
                     // enlarged 4-9x (Fashion-MNIST is 28x28): the ring of rows runs up to 3 rows ahead
                     (28, 28), (32, 32), (40, 64)]
        let directory = try PreprocessingTestSupport.temporaryDirectory("pillow-preprocess")
        defer { try? FileManager.default.removeItem(at: directory) }
        var images: [RGBImage] = []
        for (index, size) in sizes.enumerated() {
            let image = PreprocessingTestSupport.syntheticImage(width: size.0, height: size.1,
                                                                seed: UInt64(100 + index))
            images.append(image)
            try Data(image.pixels).write(to: directory.appendingPathComponent("image\(index).in"))
        }
        try PreprocessingTestSupport.runPython("""
            import sys, os
            import numpy as np
            from PIL import Image
            out = sys.argv[1]
            for case in sys.argv[2].split(';'):
                i, w, h = map(int, case.split())
                im = Image.frombytes('RGB', (w, h), open(os.path.join(out, 'image%d.in' % i), 'rb').read())
                # make_reference.py preprocess(), minus the file decoding and the NCHW transpose
                s = 256 / min(w, h)
                im = im.resize((round(w * s), round(h * s)), Image.BILINEAR)
                w, h = im.size
                left, top = (w - 224) // 2, (h - 224) // 2
                im = im.crop((left, top, left + 224, top + 224))
                x = (np.asarray(im, np.float32) - 127.0) / 128.0
                x.astype('<f4').tofile(os.path.join(out, 'image%d.out' % i))
            """, arguments: [directory.path,
                          sizes.enumerated().map { "\($0.offset) \($0.element.0) \($0.element.1)" }
                              .joined(separator: ";")])
        let preprocessor = Preprocessor()
        for (index, size) in sizes.enumerated() {
            let expected = try PreprocessingTestSupport.floats(directory.appendingPathComponent("image\(index).out"))
            let ours = preprocessor.prepare(images[index])
            let difference = PreprocessingTestSupport.maximumDifference(ours, expected)
            #expect(difference == 0, "\(size.0)x\(size.1): max difference \(difference)")
        }
    }

    /// Random image and output sizes (up and down, odd, tiny, one axis unchanged) resized by Pillow and by the
    /// fast path: identical bytes, for the whole output and for windows of it.
    @Test func resizeMatchesPillowExactly() throws {
        let cases: [(width: Int, height: Int, outWidth: Int, outHeight: Int)] = [
            (451, 300, 385, 256), (640, 427, 384, 256), (600, 400, 384, 256), (400, 328, 312, 256),
            (512, 512, 256, 256), (37, 23, 61, 17), (101, 67, 13, 29), (8, 5, 3, 11), (1, 1, 5, 3),
            (257, 3, 256, 2), (3, 257, 7, 256), (1000, 17, 999, 17), (64, 48, 64, 96), (5, 7, 5, 7),
            (333, 251, 100, 100), (123, 321, 40, 500), (2, 2, 1, 1), (719, 541, 341, 256),
            // Pillow 13 runs the vertical pass first when the height shrinks by more than twice the width's change.
            (60, 200, 40, 90), (37, 23, 61, 17), (300, 700, 256, 597), (10, 100, 10, 30), (5, 100, 9, 50),
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
