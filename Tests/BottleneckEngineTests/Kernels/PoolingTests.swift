import BottleneckEngine
import Testing

@Suite struct PoolingTests {
    static let geometries: [ConvolutionGeometry] = [
        // ResNet stem max pool, scaled down: 3x3 stride 2 pad 1, with an extra bottom/right pad.
        ConvolutionGeometry(batch: 3, inputHeight: 9, inputWidth: 10, inputChannels: 17, outputChannels: 17,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 1, padLeft: 1, padBottom: 2, padRight: 2),
        // Inception-style 3x3 stride 1 "same" pool over 33 channels, asymmetric pads.
        ConvolutionGeometry(batch: 1, inputHeight: 7, inputWidth: 6, inputChannels: 33, outputChannels: 33,
                            kernelHeight: 3, kernelWidth: 3, padTop: 0, padLeft: 1, padBottom: 1, padRight: 2),
        // 2x2 stride 2 without padding, 5 channels (scalar path only), odd input size drops the last row/column.
        ConvolutionGeometry(batch: 2, inputHeight: 7, inputWidth: 9, inputChannels: 5, outputChannels: 5,
                            kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2),
        // 5x3 kernel larger than the input with padding, 24 channels (16 + 8).
        ConvolutionGeometry(batch: 1, inputHeight: 3, inputWidth: 2, inputChannels: 24, outputChannels: 24,
                            kernelHeight: 5, kernelWidth: 3, strideHeight: 1, strideWidth: 2,
                            padTop: 2, padLeft: 1, padBottom: 2, padRight: 1),
    ]

    @Test(arguments: geometries)
    func maxMatchesReference(geometry: ConvolutionGeometry) {
        var random = SplitMix64(seed: 0x9001)
        let input = FloatBuffer(random.floats(geometry.inputCount, in: -10...10))
        let sentinel: Float = 4321
        let fast = FloatBuffer(repeating: sentinel, count: geometry.outputCount)
        let expected = FloatBuffer(repeating: 0, count: geometry.outputCount)
        defer { [input, fast, expected].forEach { $0.deallocate() } }
        Pooling.referenceMax(geometry: geometry, input: input.pointer, output: expected.pointer,
                             rows: 0..<geometry.outputRows)
        runInPieces(rows: 0..<geometry.outputRows, rowSize: geometry.outputWidth * geometry.outputChannels,
                    output: fast, sentinel: sentinel) { rows in
            Pooling.max(geometry: geometry, input: input.pointer, output: fast.pointer, rows: rows)
        }
        // A maximum selects one of its inputs: exact.
        #expect(fast.values == expected.values)
    }

    @Test(arguments: geometries, [false, true])
    func averageMatchesReference(geometry: ConvolutionGeometry, countIncludePad: Bool) {
        var random = SplitMix64(seed: 0xA7E)
        let input = FloatBuffer(random.floats(geometry.inputCount, in: -10...10))
        let sentinel: Float = 4321
        let fast = FloatBuffer(repeating: sentinel, count: geometry.outputCount)
        let expected = FloatBuffer(repeating: 0, count: geometry.outputCount)
        defer { [input, fast, expected].forEach { $0.deallocate() } }
        Pooling.referenceAverage(geometry: geometry, countIncludePad: countIncludePad, input: input.pointer,
                                 output: expected.pointer, rows: 0..<geometry.outputRows)
        runInPieces(rows: 0..<geometry.outputRows, rowSize: geometry.outputWidth * geometry.outputChannels,
                    output: fast, sentinel: sentinel) { rows in
            Pooling.average(geometry: geometry, countIncludePad: countIncludePad, input: input.pointer,
                            output: fast.pointer, rows: rows)
        }
        // At most 15 values summed in the same order; the fast path multiplies by 1/count instead of dividing,
        // one extra rounding: 1e-6 relative.
        #expect(maximumError(fast.values, expected.values) <= 1e-6)
    }

    @Test(arguments: [(batch: 3, spatial: 49, channels: 33), (batch: 1, spatial: 1, channels: 5),
                      (batch: 2, spatial: 10, channels: 1280), (batch: 1, spatial: 7, channels: 24)])
    func globalAverageMatchesReference(shape: (batch: Int, spatial: Int, channels: Int)) {
        var random = SplitMix64(seed: 0x6A)
        let input = FloatBuffer(random.floats(shape.batch * shape.spatial * shape.channels, in: -10...10))
        let sentinel: Float = 4321
        let fast = FloatBuffer(repeating: sentinel, count: shape.batch * shape.channels)
        let expected = FloatBuffer(repeating: 0, count: shape.batch * shape.channels)
        defer { [input, fast, expected].forEach { $0.deallocate() } }
        Pooling.referenceGlobalAverage(batch: shape.batch, spatial: shape.spatial, channels: shape.channels,
                                       input: input.pointer, output: expected.pointer, images: 0..<shape.batch)
        runInPieces(rows: 0..<shape.batch, rowSize: shape.channels, output: fast, sentinel: sentinel) { images in
            Pooling.globalAverage(batch: shape.batch, spatial: shape.spatial, channels: shape.channels,
                                  input: input.pointer, output: fast.pointer, images: images)
        }
        // Up to 1280 values in [-10, 10] summed in fp32, in two interleaved chains instead of one: each addition
        // rounds by at most half an ulp of partial sums of a few hundred (~1e-5), and these errors add like a
        // random walk, so the means (sum / count) differ by well under 1e-5 absolute: 1e-5 relative.
        #expect(maximumError(fast.values, expected.values) <= 1e-5)
    }
}
