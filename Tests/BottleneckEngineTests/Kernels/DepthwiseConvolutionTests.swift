import BottleneckEngine
import Testing

@Suite struct DepthwiseConvolutionTests {
    static let geometries: [ConvolutionGeometry] = [
        // Stride 1, symmetric pad, channels 17 = one 16-block + one scalar.
        ConvolutionGeometry(batch: 1, inputHeight: 9, inputWidth: 11, inputChannels: 17, outputChannels: 17,
                            kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                            groups: 17),
        // Stride 2, asymmetric pads, batch 3, channels 33 = 2 blocks of 16 + 1.
        ConvolutionGeometry(batch: 3, inputHeight: 10, inputWidth: 7, inputChannels: 33, outputChannels: 33,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 0, padLeft: 1, padBottom: 1, padRight: 2, groups: 33),
        // 5x5 stride 1 "same", channels 5 = scalar only.
        ConvolutionGeometry(batch: 1, inputHeight: 13, inputWidth: 13, inputChannels: 5, outputChannels: 5,
                            kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2,
                            groups: 5),
        // 5x5 stride 2, TF-SAME-like asymmetric pads, channels 29 = 16 + 8 + 5.
        ConvolutionGeometry(batch: 2, inputHeight: 8, inputWidth: 9, inputChannels: 29, outputChannels: 29,
                            kernelHeight: 5, kernelWidth: 5, strideHeight: 2, strideWidth: 2,
                            padTop: 1, padLeft: 2, padBottom: 2, padRight: 2, groups: 29),
        // Non-square kernel, stride 3 x 1, no padding, channels 3.
        ConvolutionGeometry(batch: 1, inputHeight: 11, inputWidth: 12, inputChannels: 3, outputChannels: 3,
                            kernelHeight: 2, kernelWidth: 4, strideHeight: 3, strideWidth: 1, groups: 3),
        // Kernel wider than the input with padding: no interior column at all.
        ConvolutionGeometry(batch: 1, inputHeight: 3, inputWidth: 3, inputChannels: 24, outputChannels: 24,
                            kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2,
                            groups: 24),
        // 1x1 kernel with padding: border pixels see only padding and equal the clamped bias.
        ConvolutionGeometry(batch: 1, inputHeight: 4, inputWidth: 4, inputChannels: 9, outputChannels: 9,
                            kernelHeight: 1, kernelWidth: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                            groups: 9),
        // EfficientNet-Lite0-like shapes, scaled down: 3x3 stride 2 TF-SAME (pads t0 l0 b1 r1) and 5x5 same.
        ConvolutionGeometry(batch: 1, inputHeight: 16, inputWidth: 16, inputChannels: 32, outputChannels: 32,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 0, padLeft: 0, padBottom: 1, padRight: 1, groups: 32),
        ConvolutionGeometry(batch: 1, inputHeight: 14, inputWidth: 14, inputChannels: 48, outputChannels: 48,
                            kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2,
                            groups: 48),
        // 5x5 sliding-window tiles (DepthwiseSlidingRow): 23 columns = tiles of 8 + 8 + 7, 21 channels = two blocks
        // of 8 + 5 left to the general tiles, batch 2, asymmetric pads.
        ConvolutionGeometry(batch: 2, inputHeight: 6, inputWidth: 23, inputChannels: 21, outputChannels: 21,
                            kernelHeight: 5, kernelWidth: 5, padTop: 1, padLeft: 2, padBottom: 2, padRight: 2,
                            groups: 21),
        // Stride 2: 9 output columns = tiles of 5 + 4, whose 13 and 11 input columns reach both paddings.
        ConvolutionGeometry(batch: 1, inputHeight: 9, inputWidth: 17, inputChannels: 16, outputChannels: 16,
                            kernelHeight: 5, kernelWidth: 5, strideHeight: 2, strideWidth: 2,
                            padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, groups: 16),
        // 3x3 sliding-window tiles: 19 columns = tiles of 7 + 6 + 6, 20 channels = two blocks of 8 + 4 left to the
        // general tiles.
        ConvolutionGeometry(batch: 1, inputHeight: 5, inputWidth: 19, inputChannels: 20, outputChannels: 20,
                            kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                            groups: 20),
        // 3x3 stride 2, TF-SAME pads (t0 l0 b1 r1): 17 output columns = tiles of 6 + 6 + 5, the last reaching the
        // right padding; batch 2.
        ConvolutionGeometry(batch: 2, inputHeight: 8, inputWidth: 34, inputChannels: 16, outputChannels: 16,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 0, padLeft: 0, padBottom: 1, padRight: 1, groups: 16),
        // Two columns, no padding on the left: one tile of 2 whose windows run off the right edge.
        ConvolutionGeometry(batch: 1, inputHeight: 5, inputWidth: 2, inputChannels: 8, outputChannels: 8,
                            kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 0, padBottom: 2, padRight: 3,
                            groups: 8),
    ]

    @Test(arguments: geometries)
    func forwardMatchesReference(geometry: ConvolutionGeometry) {
        var random = SplitMix64(seed: 0xD3)
        let channels = geometry.inputChannels
        let input = FloatBuffer(random.floats(geometry.inputCount))
        let weights = FloatBuffer(random.floats(geometry.kernelHeight * geometry.kernelWidth * channels))
        let bias = FloatBuffer(random.floats(channels))
        let sentinel: Float = 1234.5
        let fast = FloatBuffer(repeating: sentinel, count: geometry.outputCount)
        let expected = FloatBuffer(repeating: 0, count: geometry.outputCount)
        defer { [input, weights, bias, fast, expected].forEach { $0.deallocate() } }

        for clamp in [Clamp.none, Clamp.relu6, Clamp(lower: -0.25, upper: 0.5)] {
            fast.pointer.update(repeating: sentinel, count: fast.count)
            DepthwiseConvolution.reference(
                geometry: geometry, input: input.pointer, weights: weights.pointer, bias: bias.pointer,
                clamp: clamp, output: expected.pointer, rows: 0..<geometry.outputRows)
            runInPieces(rows: 0..<geometry.outputRows, rowSize: geometry.outputWidth * channels, output: fast,
                        sentinel: sentinel) { rows in
                DepthwiseConvolution.forward(
                    geometry: geometry, input: input.pointer, weights: weights.pointer, bias: bias.pointer,
                    clamp: clamp, output: fast.pointer, rows: rows)
            }
            // Both sum at most 25 products of values in [-1, 1] in fp32; the fast kernel fuses multiply-adds and
            // orders taps differently, so results differ by a few ulp of the partial sums: 1e-5 relative.
            #expect(maximumError(fast.values, expected.values) <= 1e-5, "clamp \(clamp)")
        }
    }

    @Test func forwardWithoutBiasMatchesReference() {
        let geometry = Self.geometries[1]
        var random = SplitMix64(seed: 0xB1A5)
        let input = FloatBuffer(random.floats(geometry.inputCount))
        let weights = FloatBuffer(random.floats(9 * geometry.inputChannels))
        let fast = FloatBuffer(repeating: 0, count: geometry.outputCount)
        let expected = FloatBuffer(repeating: 0, count: geometry.outputCount)
        defer { [input, weights, fast, expected].forEach { $0.deallocate() } }
        DepthwiseConvolution.reference(
            geometry: geometry, input: input.pointer, weights: weights.pointer, bias: nil, clamp: .relu,
            output: expected.pointer, rows: 0..<geometry.outputRows)
        DepthwiseConvolution.forward(
            geometry: geometry, input: input.pointer, weights: weights.pointer, bias: nil, clamp: .relu,
            output: fast.pointer, rows: 0..<geometry.outputRows)
        // Same fp32 summation-order argument as above: 1e-5 relative.
        #expect(maximumError(fast.values, expected.values) <= 1e-5)
    }
}
