import BottleneckEngine
import Testing

/// All layout transforms are pure data movement, so every comparison here is exact.
@Suite struct LayoutTransformsTests {
    @Test(arguments: [(batch: 3, channels: 5, height: 7, width: 9), (batch: 1, channels: 17, height: 1, width: 40),
                      (batch: 2, channels: 3, height: 6, width: 6), (batch: 1, channels: 3, height: 5, width: 13)])
    func nchwNHWCConversionsMatchTransposes(shape: (batch: Int, channels: Int, height: Int, width: Int)) {
        var random = SplitMix64(seed: 0x4C)
        let count = shape.batch * shape.channels * shape.height * shape.width
        let input = FloatBuffer(random.floats(count))
        let converted = FloatBuffer(repeating: .nan, count: count), expected = FloatBuffer(repeating: .nan, count: count)
        let roundTrip = FloatBuffer(repeating: .nan, count: count)
        defer { [input, converted, expected, roundTrip].forEach { $0.deallocate() } }

        LayoutTransforms.nchwToNHWC(input: input.pointer, output: converted.pointer, batch: shape.batch,
                                    channels: shape.channels, height: shape.height, width: shape.width)
        LayoutTransforms.referenceTranspose(input: input.pointer,
                                            shape: [shape.batch, shape.channels, shape.height, shape.width],
                                            permutation: [0, 2, 3, 1], output: expected.pointer)
        #expect(converted.values == expected.values)

        LayoutTransforms.nhwcToNCHW(input: converted.pointer, output: roundTrip.pointer, batch: shape.batch,
                                    channels: shape.channels, height: shape.height, width: shape.width)
        LayoutTransforms.referenceTranspose(input: converted.pointer,
                                            shape: [shape.batch, shape.height, shape.width, shape.channels],
                                            permutation: [0, 3, 1, 2], output: expected.pointer)
        #expect(roundTrip.values == expected.values)
        #expect(roundTrip.values == input.values)
    }

    @Test(arguments: [(shape: [2, 3, 4, 5], permutation: [0, 2, 3, 1]), (shape: [2, 3, 4, 5], permutation: [3, 1, 0, 2]),
                      (shape: [3, 1, 6], permutation: [2, 0, 1]), (shape: [7], permutation: [0]),
                      (shape: [], permutation: []), (shape: [5, 3], permutation: [1, 0]),
                      (shape: [2, 0, 3], permutation: [2, 1, 0])])
    func transposeMatchesReference(shape: [Int], permutation: [Int]) {
        var random = SplitMix64(seed: 0x7A)
        let count = shape.reduce(1, *)
        let input = FloatBuffer(random.floats(count))
        let fast = FloatBuffer(repeating: .nan, count: count), expected = FloatBuffer(repeating: .nan, count: count)
        defer { [input, fast, expected].forEach { $0.deallocate() } }
        LayoutTransforms.transpose(input: input.pointer, shape: shape, permutation: permutation, output: fast.pointer)
        LayoutTransforms.referenceTranspose(input: input.pointer, shape: shape, permutation: permutation,
                                            output: expected.pointer)
        #expect(fast.values == expected.values)
    }

    @Test(arguments: [(shape: [2, 5, 4, 3], before: [0, 1, 0, 2], after: [1, 0, 2, 1]),
                      (shape: [1, 3, 3, 17], before: [0, 0, 1, 0], after: [0, 1, 1, 0]),
                      (shape: [5], before: [2], after: [3]),
                      (shape: [2, 3], before: [0, 0], after: [0, 0])])
    func padMatchesReference(shape: [Int], before: [Int], after: [Int]) {
        var random = SplitMix64(seed: 0x9AD)
        let input = FloatBuffer(random.floats(shape.reduce(1, *)))
        let outputCount = shape.indices.map { shape[$0] + before[$0] + after[$0] }.reduce(1, *)
        let fast = FloatBuffer(repeating: .nan, count: outputCount)
        let expected = FloatBuffer(repeating: .nan, count: outputCount)
        defer { [input, fast, expected].forEach { $0.deallocate() } }
        LayoutTransforms.pad(input: input.pointer, shape: shape, padsBefore: before, padsAfter: after, value: 7.5,
                             output: fast.pointer)
        LayoutTransforms.referencePad(input: input.pointer, shape: shape, padsBefore: before, padsAfter: after,
                                      value: 7.5, output: expected.pointer)
        #expect(fast.values == expected.values)
    }

    @Test func concatenateChannelsMatchesReference() {
        var random = SplitMix64(seed: 0xCA7)
        let pixels = 13
        let channelCounts = [3, 17, 1, 16]
        let inputs = channelCounts.map { FloatBuffer(random.floats(pixels * $0)) }
        let total = channelCounts.reduce(0, +) * pixels
        let fast = FloatBuffer(repeating: .nan, count: total), expected = FloatBuffer(repeating: .nan, count: total)
        defer { (inputs + [fast, expected]).forEach { $0.deallocate() } }
        let parts = zip(inputs, channelCounts).map { (UnsafePointer($0.pointer), channels: $1) }
        LayoutTransforms.concatenateChannels(inputs: parts, pixels: pixels, output: fast.pointer)
        LayoutTransforms.referenceConcatenateChannels(inputs: parts, pixels: pixels, output: expected.pointer)
        #expect(fast.values == expected.values)
    }
}
