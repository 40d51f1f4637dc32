import BottleneckEngine
import Foundation
import Testing

@Suite struct ElementwiseTests {
    static let clamps = [Clamp.none, Clamp.relu, Clamp.relu6, Clamp(lower: -0.5, upper: 0.25)]

    @Test(arguments: [3, 17, 33, 40], [false, true])
    func biasClampMatchesReference(channels: Int, hasBias: Bool) {
        var random = SplitMix64(seed: UInt64(channels))
        let pixelCount = 23
        let values = random.floats(pixelCount * channels, in: -8...8)
        let bias = FloatBuffer(random.floats(channels))
        defer { bias.deallocate() }
        for clamp in Self.clamps {
            let fast = FloatBuffer(values), expected = FloatBuffer(values)
            defer { [fast, expected].forEach { $0.deallocate() } }
            let biasPointer = hasBias ? UnsafePointer(bias.pointer) : nil
            for pixels in split(0..<pixelCount, into: 3) {
                Elementwise.biasClamp(values: fast.pointer, pixels: pixels, channels: channels, bias: biasPointer,
                                      clamp: clamp)
            }
            Elementwise.referenceBiasClamp(values: expected.pointer, pixels: 0..<pixelCount, channels: channels,
                                           bias: biasPointer, clamp: clamp)
            // One addition and a clamp per element in both: bit-identical.
            #expect(fast.values == expected.values, "clamp \(clamp)")
        }
    }

    @Test func biasClampTouchesOnlyItsPixels() {
        var random = SplitMix64(seed: 0xB)
        let channels = 19
        let values = random.floats(10 * channels, in: -8...8)
        let buffer = FloatBuffer(values), bias = FloatBuffer(random.floats(channels))
        defer { [buffer, bias].forEach { $0.deallocate() } }
        Elementwise.biasClamp(values: buffer.pointer, pixels: 3..<7, channels: channels, bias: bias.pointer,
                              clamp: .relu)
        let after = buffer.values
        #expect(after[..<(3 * channels)] == values[..<(3 * channels)])
        #expect(after[(7 * channels)...] == values[(7 * channels)...])
    }

    /// A range with an unaligned start and a tail, split in three pieces, over buffers with margins that must
    /// stay untouched.
    static let range = 5..<78

    @Test(arguments: [false, true])
    func addAndMultiplyMatchReference(inPlace: Bool) {
        var random = SplitMix64(seed: 0xADD)
        let count = Self.range.upperBound + 3
        let aValues = random.floats(count, in: -4...4), bValues = random.floats(count, in: -4...4)
        for clamp in Self.clamps {
            for (fastKernel, referenceKernel) in [(Elementwise.add, Elementwise.referenceAdd),
                                                  (Elementwise.multiply, Elementwise.referenceMultiply)] {
                let a = FloatBuffer(aValues), b = FloatBuffer(bValues)
                let separateOutput = FloatBuffer(repeating: .nan, count: count)
                let expected = FloatBuffer(repeating: .nan, count: count)
                defer { [a, b, separateOutput, expected].forEach { $0.deallocate() } }
                let output = inPlace ? a : separateOutput
                for piece in split(Self.range, into: 3) {
                    fastKernel(a.pointer, b.pointer, output.pointer, piece, clamp)
                }
                let original = FloatBuffer(aValues)
                defer { original.deallocate() }
                referenceKernel(original.pointer, b.pointer, expected.pointer, Self.range, clamp)
                // One rounding per element in both: bit-identical inside the range.
                #expect(Array(output.values[Self.range]) == Array(expected.values[Self.range]), "clamp \(clamp)")
                let margins = Array(output.values[..<Self.range.lowerBound] + output.values[Self.range.upperBound...])
                let originalMargins = inPlace
                    ? Array(aValues[..<Self.range.lowerBound] + aValues[Self.range.upperBound...])
                    : [Float](repeating: .nan, count: count - Self.range.count)
                #expect(margins.elementsEqual(originalMargins) { $0 == $1 || $0.isNaN && $1.isNaN })
            }
        }
    }

    @Test func clampMatchesReference() {
        var random = SplitMix64(seed: 0xC1A)
        let count = Self.range.upperBound + 3
        let input = FloatBuffer(random.floats(count, in: -10...10))
        let fast = FloatBuffer(repeating: .nan, count: count), expected = FloatBuffer(repeating: .nan, count: count)
        defer { [input, fast, expected].forEach { $0.deallocate() } }
        for clamp in Self.clamps {
            for piece in split(Self.range, into: 3) {
                Elementwise.clamp(values: input.pointer, output: fast.pointer, range: piece, clamp: clamp)
            }
            Elementwise.referenceClamp(values: input.pointer, output: expected.pointer, range: Self.range,
                                       clamp: clamp)
            // Selection only: exact (NaN margins compare as equal to NaN).
            #expect(fast.values.elementsEqual(expected.values) { $0 == $1 || $0.isNaN && $1.isNaN })
        }
    }

    @Test(arguments: [5, 17, 33, 64])
    func channelScaleMatchesReference(channels: Int) {
        var random = SplitMix64(seed: 0x5E)
        let batch = 3, pixels = 7
        let values = FloatBuffer(random.floats(batch * pixels * channels))
        let scales = FloatBuffer(random.floats(batch * channels, in: 0...1))
        let fast = FloatBuffer(repeating: .nan, count: values.count)
        let expected = FloatBuffer(repeating: .nan, count: values.count)
        defer { [values, scales, fast, expected].forEach { $0.deallocate() } }
        runInPieces(rows: 0..<batch, rowSize: pixels * channels, output: fast, sentinel: .nan) { images in
            Elementwise.channelScale(values: values.pointer, scales: scales.pointer, pixelsPerImage: pixels,
                                     channels: channels, images: images, output: fast.pointer)
        }
        Elementwise.referenceChannelScale(values: values.pointer, scales: scales.pointer, pixelsPerImage: pixels,
                                          channels: channels, images: 0..<batch, output: expected.pointer)
        // One multiplication per element in both: bit-identical.
        #expect(fast.values == expected.values)
    }

    @Test func sigmoidIsAccurate() {
        var random = SplitMix64(seed: 0x51)
        let extremes: [Float] = [0, -0.0, 1e-3, -1e-3, 20, -20, 88, -88, 89, -89, 100, -100, 1e6, -1e6,
                                 .infinity, -.infinity, .leastNormalMagnitude, .greatestFiniteMagnitude]
        let valuesArray = extremes + random.floats(1001, in: -20...20) + random.floats(200, in: -100...100)
        let range = 3..<(valuesArray.count - 2)  // unaligned start and a tail of < 8 elements
        let values = FloatBuffer(valuesArray)
        let fast = FloatBuffer(repeating: .nan, count: values.count)
        let expected = FloatBuffer(repeating: .nan, count: values.count)
        defer { [values, fast, expected].forEach { $0.deallocate() } }
        for piece in split(range, into: 3) {
            Elementwise.sigmoid(values: values.pointer, output: fast.pointer, range: piece)
        }
        Elementwise.referenceSigmoid(values: values.pointer, output: expected.pointer, range: range)
        // The reference is exact to fp32 rounding (Double with Foundation's exp); the kernel's polynomial exp is
        // accurate to ~2 ulp and the division adds one rounding, so sigmoid (in [0, 1]) is within 1e-6 absolute.
        let errors = range.map { abs(fast.pointer[$0] - expected.pointer[$0]) }
        #expect(errors.allSatisfy { $0 <= 1e-6 }, "largest error \(errors.max()!)")
        #expect(fast.pointer[range.lowerBound - 1].isNaN && fast.pointer[range.upperBound].isNaN)
    }
}
