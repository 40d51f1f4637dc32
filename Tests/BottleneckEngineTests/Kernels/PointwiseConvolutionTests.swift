import BottleneckEngine
import Foundation
import Testing

@Suite struct PointwiseConvolutionTests {
    // (pixels, input channels, output channels): odd counts, partial panels (N not a multiple of 16), pixel counts
    // that need tiles of every height from 1 to 6 (also through the uneven pieces), and EfficientNet-like shapes.
    // Weights over 512 KB run panel by panel and prefetch the next panel: (49, 320, 1280), and (45, 100, 1300),
    // whose pieces of 15 pixels make 3 tiles that prefetch 34 lines each, more than the panel's 100.
    // A last panel of 8 channels goes with the one before into 4-pixel tiles: (8, 9, 24), (11, 144, 24) and
    // (37, 1152, 40), whose pieces need paired tiles of every height from 1 to 4.
    static let shapes = [(1, 3, 5), (7, 16, 16), (8, 9, 24), (11, 144, 24), (13, 5, 33), (23, 24, 144),
                         (49, 320, 1280), (37, 1152, 40), (45, 100, 1300)]

    // Tolerance 1e-5 relative to the sum of |terms|: float32 accumulation against a Double reference.
    @Test(arguments: shapes, [false, true])
    func forwardMatchesReference(shape: (Int, Int, Int), residual hasResidual: Bool) {
        let (pixelCount, inputChannels, outputChannels) = shape
        var random = SplitMix64(seed: UInt64(pixelCount * 7919 + inputChannels * 31 + outputChannels))
        let input = FloatBuffer(random.floats(pixelCount * inputChannels, in: -2...2))
        let weights = FloatBuffer(random.floats(inputChannels * outputChannels))
        let bias = FloatBuffer(random.floats(outputChannels))
        let residual = FloatBuffer(random.floats(pixelCount * outputChannels, in: -3...3))
        defer { [input, weights, bias, residual].forEach { $0.deallocate() } }
        let packed = PointwiseConvolution.pack(weights: weights.pointer, inputChannels: inputChannels,
                                               outputChannels: outputChannels)
        for clamp in [Clamp.none, .relu6] {
            let fast = FloatBuffer([Float](repeating: .nan, count: pixelCount * outputChannels))
            let expected = FloatBuffer([Float](repeating: 0, count: pixelCount * outputChannels))
            defer { [fast, expected].forEach { $0.deallocate() } }
            packed.withUnsafeBufferPointer { packedWeights in
                for pixels in split(0..<pixelCount, into: 3) {
                    PointwiseConvolution.forward(
                        input: input.pointer, inputChannels: inputChannels, packedWeights: packedWeights.baseAddress!,
                        outputChannels: outputChannels, bias: bias.pointer,
                        residual: hasResidual ? UnsafePointer(residual.pointer) : nil, clamp: clamp,
                        output: fast.pointer, pixels: pixels)
                }
            }
            PointwiseConvolution.reference(
                input: input.pointer, inputChannels: inputChannels, weights: weights.pointer,
                outputChannels: outputChannels, bias: bias.pointer,
                residual: hasResidual ? UnsafePointer(residual.pointer) : nil, clamp: clamp,
                output: expected.pointer, pixels: 0..<pixelCount)
            let scale = Float(inputChannels) * 2 + 4
            #expect(maximumError(fast.values, expected.values) <= 1e-5 * scale, "\(shape) clamp \(clamp)")
        }
    }

    // Threads may split the output channels instead of the pixels: calls over disjoint panel ranges together
    // write the whole output, and each writes only its own channels. 45 channels: 3 panels, the last 13 wide;
    // 40: the last 8 wide, paired with the one before only when a call has both. Same tolerance as above.
    @Test(arguments: [(45, [0..<1, 2..<3, 1..<2]), (40, [1..<3, 0..<1]), (40, [2..<3, 0..<2])])
    func forwardOverPanelRangesMatchesReference(outputChannels: Int, panelRanges: [Range<Int>]) {
        let (pixelCount, inputChannels) = (11, 21)
        var random = SplitMix64(seed: 45)
        let input = FloatBuffer(random.floats(pixelCount * inputChannels))
        let weights = FloatBuffer(random.floats(inputChannels * outputChannels))
        let bias = FloatBuffer(random.floats(outputChannels))
        let fast = FloatBuffer(repeating: .nan, count: pixelCount * outputChannels)
        let expected = FloatBuffer(repeating: 0, count: pixelCount * outputChannels)
        defer { [input, weights, bias, fast, expected].forEach { $0.deallocate() } }
        let packed = PointwiseConvolution.pack(weights: weights.pointer, inputChannels: inputChannels,
                                               outputChannels: outputChannels)
        packed.withUnsafeBufferPointer { packed in
            var allowed = Set<Int>()
            for panels in panelRanges {
                allowed.formUnion((panels.lowerBound * 16)..<min(outputChannels, panels.upperBound * 16))
                PointwiseConvolution.forward(
                    input: input.pointer, inputChannels: inputChannels, packedWeights: packed.baseAddress!,
                    outputChannels: outputChannels, bias: bias.pointer, residual: nil, clamp: .relu6,
                    output: fast.pointer, pixels: 0..<pixelCount, panels: panels)
                let written = fast.values.enumerated().filter { !$0.element.isNaN }.map { $0.offset % outputChannels }
                #expect(Set(written) == allowed, "after panels \(panels)")
            }
        }
        PointwiseConvolution.reference(
            input: input.pointer, inputChannels: inputChannels, weights: weights.pointer,
            outputChannels: outputChannels, bias: bias.pointer, residual: nil, clamp: .relu6,
            output: expected.pointer, pixels: 0..<pixelCount)
        #expect(maximumError(fast.values, expected.values) <= 1e-5 * (Float(inputChannels) * 2 + 4))
    }

    @Test func forwardWritesOnlyItsPixels() {
        let (inputChannels, outputChannels) = (8, 20)
        var random = SplitMix64(seed: 5)
        let input = FloatBuffer(random.floats(10 * inputChannels))
        let weights = FloatBuffer(random.floats(inputChannels * outputChannels))
        let bias = FloatBuffer(random.floats(outputChannels))
        let output = FloatBuffer([Float](repeating: 42, count: 10 * outputChannels))
        defer { [input, weights, bias, output].forEach { $0.deallocate() } }
        let packed = PointwiseConvolution.pack(weights: weights.pointer, inputChannels: inputChannels,
                                               outputChannels: outputChannels)
        packed.withUnsafeBufferPointer {
            PointwiseConvolution.forward(input: input.pointer, inputChannels: inputChannels,
                                         packedWeights: $0.baseAddress!, outputChannels: outputChannels,
                                         bias: bias.pointer, residual: nil, clamp: .none, output: output.pointer,
                                         pixels: 3..<8)
        }
        let after = output.values
        #expect(after[..<(3 * outputChannels)].allSatisfy { $0 == 42 })
        #expect(after[(8 * outputChannels)...].allSatisfy { $0 == 42 })
        #expect(!after[(3 * outputChannels)..<(8 * outputChannels)].contains(42))
    }
}
