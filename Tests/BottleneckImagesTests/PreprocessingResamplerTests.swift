import BottleneckImages
import Foundation
import Testing

/// The fast fixed-point resampler against the slow double-precision `ReferenceResampler`, and the
/// preprocessor's geometry, channel order, caching and thread safety.
@Suite struct PreprocessingResamplerTests {
    /// Tolerance: the fast path rounds to 8 bits after each of its two passes (at most 0.5 level each; the
    /// vertical pass carries the first rounding through weights that sum to 1) and uses 22-bit fixed-point
    /// weights (~1e-4 level); the reference does not round at all. So at most 1 level + 1e-3.
    static let tolerance = 1.0 + 1e-3

    @Test(arguments: [
        (37, 23, 61, 17),   // up x, down y
        (101, 67, 13, 29),  // down x (7.8x), down y
        (19, 200, 45, 31),  // up x, down y (6.5x)
        (64, 9, 17, 40),    // down x, up y
        (8, 5, 3, 11),
        (1, 1, 5, 3),       // a single pixel
        (3, 2, 1, 1),
        (257, 3, 256, 2),   // nearly unchanged
        (50, 50, 50, 50),   // unchanged
        (333, 251, 97, 73), // odd sizes, 3.4x down
    ])
    func fastPathAgreesWithReference(_ sizes: (Int, Int, Int, Int)) {
        let (width, height, outWidth, outHeight) = sizes
        let image = PreprocessingTestSupport.syntheticImage(width: width, height: height,
                                                            seed: UInt64(width * 1000 + height))
        let reference = ReferenceResampler.resize(image, width: outWidth, height: outHeight)
        let fast = image.resizedBilinear(width: outWidth, height: outHeight).pixels
        var largest = 0.0
        for (a, b) in zip(fast, reference) { largest = max(largest, abs(Double(a) - b)) }
        print("fast vs reference \(width)x\(height) -> \(outWidth)x\(outHeight): max \(largest) levels")
        #expect(largest <= Self.tolerance, "\(sizes): fast path is \(largest) levels from the reference")
    }

    @Test func referencePreprocessingIsClose() {
        let spec = PreprocessingSpec.efficientNetLite0
        for (width, height) in [(451, 300), (300, 451), (230, 225)] {
            let image = PreprocessingTestSupport.syntheticImage(width: width, height: height, seed: 7)
            let fast = Preprocessor(spec: spec).prepare(image)
            let reference = ReferenceResampler.prepare(image, spec: spec)
            let difference = PreprocessingTestSupport.maximumDifference(fast, reference)
            #expect(difference <= Float(Self.tolerance) / 128, "\(width)x\(height): \(difference)")
        }
    }

    /// Python's `round` (ties to even) and floor-division offsets.
    @Test func geometryFollowsTheReference() {
        let spec = PreprocessingSpec.efficientNetLite0
        let g = PreprocessingGeometry(width: 451, height: 300, spec: spec)
        #expect([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY] == [385, 256, 80, 16] as [Int])
        let tall = PreprocessingGeometry(width: 400, height: 600, spec: spec)
        #expect([tall.resizedWidth, tall.resizedHeight, tall.cropX, tall.cropY] == [256, 384, 16, 80] as [Int])
        // An upscale: the shorter side grows to 256.
        let small = PreprocessingGeometry(width: 100, height: 80, spec: spec)
        #expect([small.resizedWidth, small.resizedHeight] == [320, 256] as [Int])
    }

    /// Python-round ties: 1005 x 10 with shorter side 5 gives 502.5 -> 502, 1015 x 10 gives 507.5 -> 508.
    @Test func geometryRoundsTiesToEven() throws {
        let spec = try PreprocessingSpec(inputSize: 5, mean: [0, 0, 0], resizeShorterSide: 5, std: [1, 1, 1])
        #expect(PreprocessingGeometry(width: 1005, height: 10, spec: spec).resizedWidth == 502)
        #expect(PreprocessingGeometry(width: 1015, height: 10, spec: spec).resizedWidth == 508)
        #expect(PreprocessingGeometry(width: 10, height: 1005, spec: spec).resizedHeight == 502)
    }

    @Test func bgrSwapsChannels() throws {
        var json = PreprocessingSpec.efficientNetLite0.jsonString()
        json = json.replacingOccurrences(of: "\"RGB\"", with: "\"BGR\"")
            .replacingOccurrences(of: "[127,127,127]", with: "[1,2,3]")
        let bgr = try PreprocessingSpec(json: json)
        let rgb = try PreprocessingSpec(inputSize: 224, mean: [3, 2, 1], resizeShorterSide: 256,
                                        std: [128, 128, 128])
        let image = PreprocessingTestSupport.syntheticImage(width: 300, height: 260, seed: 3)
        let a = Preprocessor(spec: bgr).prepare(image)
        let b = Preprocessor(spec: rgb).prepare(image)
        var swapped = b
        for pixel in 0..<(224 * 224) { swapped.swapAt(pixel * 3, pixel * 3 + 2) }
        // Large arrays are compared outside #expect: its failure report diffs them, which takes minutes.
        let same = a == swapped
        #expect(same)
    }

    /// Many threads, several image sizes and more sizes than the cache holds: the same results as one thread.
    @Test func concurrentUseMatchesSerial() {
        let preprocessor = Preprocessor()
        let sizes = (0..<40).map { (240 + 7 * $0, 230 + 5 * ($0 % 9)) }
        let images = sizes.enumerated().map {
            PreprocessingTestSupport.syntheticImage(width: $0.element.0, height: $0.element.1, seed: UInt64($0.offset))
        }
        let serial = images.map { preprocessor.prepare($0) }
        let results = ResultBox(count: images.count * 3)
        DispatchQueue.concurrentPerform(iterations: images.count * 3) { index in
            results.set(index, preprocessor.prepare(images[index % images.count]))
        }
        for index in 0..<(images.count * 3) {
            let same = results.get(index) == serial[index % images.count]
            #expect(same, "image \(index % images.count)")
        }
    }

    @Test func writesExactlyTheOutputBuffer() {
        let preprocessor = Preprocessor()
        let count = preprocessor.valuesPerImage
        var buffer = [Float](repeating: 12345, count: count + 64)
        let image = PreprocessingTestSupport.syntheticImage(width: 257, height: 333, seed: 9)
        buffer.withUnsafeMutableBufferPointer { preprocessor.prepare(image, into: $0.baseAddress! + 32) }
        #expect(buffer[..<32].allSatisfy { $0 == 12345 } && buffer[(count + 32)...].allSatisfy { $0 == 12345 })
        let same = Array(buffer[32..<(count + 32)]) == preprocessor.prepare(image)
        #expect(same)
        #expect(preprocessor.modelInputShape(batch: 4) == [4, 3, 224, 224])
    }
}

/// Results written from `concurrentPerform` workers, one slot each.
private final class ResultBox: @unchecked Sendable {
    private var slots: [[Float]]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ index: Int, _ value: [Float]) { lock.withLock { slots[index] = value } }
    func get(_ index: Int) -> [Float] { lock.withLock { slots[index] } }
}
