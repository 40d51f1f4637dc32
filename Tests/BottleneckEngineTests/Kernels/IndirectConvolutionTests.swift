import BottleneckEngine
import Testing

@Suite struct IndirectConvolutionTests {
    static let geometries: [ConvolutionGeometry] = [
        // The EfficientNet-Lite0 stem, scaled down: 3x3 stride 2, 3 -> 32, TF-SAME pads t0 l0 b1 r1, batch 2;
        // output 9x8, so each row is one full and one short tile.
        ConvolutionGeometry(batch: 2, inputHeight: 17, inputWidth: 16, inputChannels: 3, outputChannels: 32,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 0, padLeft: 0, padBottom: 1, padRight: 1),
        // One input channel, 3x3 stride 1 "same", 5 outputs (one partial panel); output width 13 = 6 + 6 + 1.
        ConvolutionGeometry(batch: 1, inputHeight: 7, inputWidth: 13, inputChannels: 1, outputChannels: 5,
                            kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        // 5x5 stride 2, asymmetric pads, 5 -> 37 (two full panels and one of 5), batch 2; output 5x8.
        ConvolutionGeometry(batch: 2, inputHeight: 11, inputWidth: 16, inputChannels: 5, outputChannels: 37,
                            kernelHeight: 5, kernelWidth: 5, strideHeight: 2, strideWidth: 2,
                            padTop: 1, padLeft: 2, padBottom: 2, padRight: 1),
        // Non-square 2x4 kernel, stride 3 x 1, pads at the top, bottom and right only, 17 -> 16; output 4x9.
        ConvolutionGeometry(batch: 1, inputHeight: 10, inputWidth: 9, inputChannels: 17, outputChannels: 16,
                            kernelHeight: 2, kernelWidth: 4, strideHeight: 3, strideWidth: 1,
                            padTop: 1, padLeft: 0, padBottom: 1, padRight: 3),
        // 1x1 with asymmetric padding: border pixels see only padding (clamped bias + residual); output 5x7.
        ConvolutionGeometry(batch: 2, inputHeight: 4, inputWidth: 5, inputChannels: 17, outputChannels: 37,
                            kernelHeight: 1, kernelWidth: 1, padTop: 1, padLeft: 0, padBottom: 0, padRight: 2),
        // 1x1 stride 3 without padding (a strided shortcut), 5 -> 16; output 3x5.
        ConvolutionGeometry(batch: 1, inputHeight: 7, inputWidth: 13, inputChannels: 5, outputChannels: 16,
                            kernelHeight: 1, kernelWidth: 1, strideHeight: 3, strideWidth: 3),
        // A 5x5 kernel over a 3x3 input with pad 2: no interior column, kernel rows in the padding; output 3x3.
        ConvolutionGeometry(batch: 1, inputHeight: 3, inputWidth: 3, inputChannels: 3, outputChannels: 5,
                            kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2),
        // Three groups of 2 -> 3 channels, 3x3 "same", batch 2.
        ConvolutionGeometry(batch: 2, inputHeight: 5, inputWidth: 7, inputChannels: 6, outputChannels: 9,
                            kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                            groups: 3),
        // Two groups of 17 -> 20 (two panels per group, the second partial), stride 2, asymmetric pads.
        ConvolutionGeometry(batch: 1, inputHeight: 9, inputWidth: 14, inputChannels: 34, outputChannels: 40,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 0, padLeft: 1, padBottom: 1, padRight: 0, groups: 2),
        // 540 KiB of packed weights (64 -> 240, 3x3), over the 512 KiB threshold: panels become the outer loop.
        ConvolutionGeometry(batch: 1, inputHeight: 6, inputWidth: 7, inputChannels: 64, outputChannels: 240,
                            kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
    ]

    @Test(arguments: geometries, [false, true])
    func forwardMatchesReference(geometry: ConvolutionGeometry, residual hasResidual: Bool) {
        let g = geometry
        var random = SplitMix64(seed: UInt64(g.inputChannels * 7919 + g.outputChannels * 31 + g.kernelWidth))
        let weightsOIHW = FloatBuffer(
            random.floats(g.outputChannels * g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth))
        let input = FloatBuffer(random.floats(g.inputCount))
        let bias = FloatBuffer(random.floats(g.outputChannels))
        let residual = FloatBuffer(random.floats(g.outputCount, in: -3...3))
        let scratch = FloatBuffer(repeating: .nan, count: IndirectConvolution.scratchCount(for: g))
        let sentinel: Float = 1234.5
        let fast = FloatBuffer(repeating: sentinel, count: g.outputCount)
        let expected = FloatBuffer(repeating: 0, count: g.outputCount)
        defer { [weightsOIHW, input, bias, residual, scratch, fast, expected].forEach { $0.deallocate() } }
        let packed = IndirectConvolution.pack(
            weightsOIHW: weightsOIHW.pointer, outputChannels: g.outputChannels,
            inputChannelsPerGroup: g.inputChannelsPerGroup, kernelHeight: g.kernelHeight,
            kernelWidth: g.kernelWidth, groups: g.groups)
        let residualPointer = hasResidual ? UnsafePointer(residual.pointer) : nil
        for clamp in [Clamp.none, .relu6] {
            fast.pointer.update(repeating: sentinel, count: fast.count)
            ConvolutionReference.forward(geometry: g, input: input.pointer, weightsOIHW: weightsOIHW.pointer,
                                         bias: bias.pointer, residual: residualPointer, clamp: clamp,
                                         output: expected.pointer)
            packed.withUnsafeBufferPointer { packedWeights in
                runInPieces(rows: 0..<g.outputRows, rowSize: g.outputWidth * g.outputChannels, output: fast,
                            sentinel: sentinel) { rows in
                    IndirectConvolution.forward(
                        geometry: g, input: input.pointer, packedWeights: packedWeights.baseAddress!,
                        bias: bias.pointer, residual: residualPointer, clamp: clamp, output: fast.pointer,
                        rows: rows, scratch: scratch.pointer)
                }
            }
            // Float32 fused multiply-adds in (ky, kx, c) order against a Double reference: each output sums `depth`
            // products of values in [-1, 1] plus bias and residual, and each addition rounds by up to 2^-24 of the
            // partial sum, so the error grows with the depth. The worst seen here is 4e-8 * depth relative to
            // max(1, |value|); 2e-7 * depth (1e-4 at depth 576) leaves a margin, while a wrong tap, channel or
            // pixel errs by 1e-2 or more.
            let depth = g.kernelHeight * g.kernelWidth * g.inputChannelsPerGroup
            #expect(maximumError(fast.values, expected.values) <= 2e-7 * Float(depth),
                    "\(g) residual \(hasResidual) clamp \(clamp)")
        }
    }
}
