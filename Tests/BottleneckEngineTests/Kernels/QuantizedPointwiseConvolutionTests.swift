import BottleneckEngine
import Testing

/// The int8 1x1 kernel (C, AVX-512 VNNI) against its plain-loop reference and against fp32 within the error
/// quantization allows. Skipped on CPUs without VNNI, where the engine refuses `Precision.int8`.
@Suite(.enabled(if: QuantizedPointwiseConvolution.isSupported, "needs AVX-512 VNNI"))
struct QuantizedPointwiseConvolutionTests {
    /// Rows of pixels quantized one by one, each over its own range, as the planner's quantize step does.
    struct QuantizedRows {
        let bytes: UnsafeMutablePointer<UInt8>
        let scales: [QuantizedPointwiseConvolution.ActivationScale]

        init(_ values: [Float], rows: Int, channels: Int, stride: Int) {
            let width = values.count / channels / rows
            let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: rows * width * stride)
            bytes.initialize(repeating: 0xAB, count: rows * width * stride)  // padding must be rewritten
            self.bytes = bytes
            scales = values.withUnsafeBufferPointer { values in
                (0..<rows).map { row in
                    QuantizedPointwiseConvolution.quantize(
                        input: values.baseAddress! + row * width * channels, pixels: width,
                        channels: channels, output: bytes + row * width * stride, stride: stride)
                }
            }
        }

        func deallocate() { bytes.deallocate() }
    }

    /// `perRow` floats per row, each row with its own range: all positive (zero point 0), signed, wide.
    static func rowValues(_ random: inout SplitMix64, rows: Int, perRow: Int) -> [Float] {
        let ranges: [ClosedRange<Float>] = [0...6, -2...3, -40...25]
        return (0..<rows).flatMap { random.floats(perRow, in: ranges[$0 % ranges.count]) }
    }

    // (rows, pixels per row, input channels, output channels): input channels not a multiple of 4 (padded
    // groups), output channels not a multiple of 16 (masked stores), pixel counts needing tiles of every height
    // 1-6 and every panel count 1-4, rows whose pixels share a tile, and EfficientNet's late shapes.
    static let shapes = [(1, 1, 3, 5), (1, 7, 16, 16), (3, 5, 5, 33), (2, 6, 21, 40), (4, 3, 13, 100),
                         (1, 49, 320, 1280), (2, 9, 1152, 40), (1, 14, 672, 112)]

    // Tolerance 1e-5 relative: both sum the same integers exactly; they differ only in the fp32 epilogue (fused
    // multiply-add in the kernel, multiply then add in the reference).
    @Test(arguments: shapes, [false, true])
    func forwardMatchesReference(shape: (Int, Int, Int, Int), residual hasResidual: Bool) {
        let (rows, width, inputChannels, outputChannels) = shape
        let pixelCount = rows * width
        var random = SplitMix64(seed: UInt64(pixelCount * 7919 + inputChannels * 31 + outputChannels))
        let weights = random.floats(inputChannels * outputChannels)
        let convolution = QuantizedPointwiseConvolution(
            inputChannels: inputChannels, outputChannels: outputChannels, bias: random.floats(outputChannels)
        ) { output, input in weights[output * inputChannels + input] }
        let input = QuantizedRows(Self.rowValues(&random, rows: rows, perRow: width * inputChannels),
                                    rows: rows, channels: inputChannels, stride: convolution.inputStride)
        let residual = FloatBuffer(random.floats(pixelCount * outputChannels, in: -3...3))
        let scales = FloatBuffer(input.scales.map(\.scale))
        let zeroPoints = input.scales.map(\.zeroPoint)
        defer { input.deallocate(); residual.deallocate(); scales.deallocate() }
        for clamp in [Clamp.none, .relu6] {
            let fast = FloatBuffer(repeating: .nan, count: pixelCount * outputChannels)
            let expected = FloatBuffer(repeating: 0, count: pixelCount * outputChannels)
            defer { [fast, expected].forEach { $0.deallocate() } }
            zeroPoints.withUnsafeBufferPointer { zeroPoints in
                for pixels in split(0..<pixelCount, into: 3) {
                    convolution.forward(
                        input: .init(bytes: input.bytes, scales: scales.pointer, zeroPoints: zeroPoints.baseAddress!,
                                     pixelsPerScale: width),
                        residual: hasResidual ? UnsafePointer(residual.pointer) : nil, clamp: clamp,
                        output: fast.pointer, pixels: pixels)
                }
            }
            convolution.reference(
                input: input.bytes, scales: input.scales, pixelsPerScale: width,
                residual: hasResidual ? UnsafePointer(residual.pointer) : nil, clamp: clamp, output: expected.pointer,
                pixelCount: pixelCount)
            #expect(maximumError(fast.values, expected.values) <= 1e-5, "\(shape) clamp \(clamp)")
        }
    }

    // Threads may split the output channels: calls over disjoint panel ranges together write every channel.
    // 100 channels: 7 panels, the last 4 wide; ranges cross the kernel's groups of 4 panels.
    @Test func forwardOverPanelRangesMatchesReference() {
        let (pixelCount, inputChannels, outputChannels) = (11, 21, 100)
        var random = SplitMix64(seed: 100)
        let weights = random.floats(inputChannels * outputChannels)
        let convolution = QuantizedPointwiseConvolution(
            inputChannels: inputChannels, outputChannels: outputChannels, bias: random.floats(outputChannels)
        ) { output, input in weights[output * inputChannels + input] }
        let input = QuantizedRows(random.floats(pixelCount * inputChannels), rows: 1, channels: inputChannels,
                                    stride: convolution.inputStride)
        let scales = FloatBuffer([input.scales[0].scale])
        let fast = FloatBuffer(repeating: .nan, count: pixelCount * outputChannels)
        let expected = FloatBuffer(repeating: 0, count: pixelCount * outputChannels)
        defer { input.deallocate(); [scales, fast, expected].forEach { $0.deallocate() } }
        var zeroPoint = input.scales[0].zeroPoint
        for panels in [5..<7, 0..<3, 3..<5] {
            withUnsafePointer(to: &zeroPoint) { zeroPoint in
                convolution.forward(input: .init(bytes: input.bytes, scales: scales.pointer, zeroPoints: zeroPoint,
                                                 pixelsPerScale: pixelCount),
                                    residual: nil, clamp: .relu6, output: fast.pointer, pixels: 0..<pixelCount,
                                    panels: panels)
            }
        }
        convolution.reference(input: input.bytes, scales: input.scales, pixelsPerScale: pixelCount,
                              residual: nil, clamp: .relu6, output: expected.pointer, pixelCount: pixelCount)
        #expect(maximumError(fast.values, expected.values) <= 1e-5)
    }

    // The arithmetic itself, against fp32: rounding x to its grid moves it by at most sx/2 and w by at most sw/2,
    // so |int8 - fp32| <= sum_k (|w_k| sx/2 + |x_k| sw/2 + sx sw/4), plus fp32 rounding (1e-4 relative).
    // A wrong zero-point correction, scale or packing order breaks this bound by orders of magnitude.
    @Test(arguments: [(2, 6, 21, 40), (1, 49, 320, 100), (3, 4, 96, 24)])
    func forwardIsWithinTheQuantizationBoundOfFloat(shape: (Int, Int, Int, Int)) {
        let (rows, width, inputChannels, outputChannels) = shape
        let pixelCount = rows * width
        var random = SplitMix64(seed: UInt64(inputChannels * outputChannels))
        let weights = random.floats(inputChannels * outputChannels)
        let bias = random.floats(outputChannels)
        let convolution = QuantizedPointwiseConvolution(inputChannels: inputChannels, outputChannels: outputChannels,
                                                        bias: bias) { output, input in
            weights[output * inputChannels + input]
        }
        let values = Self.rowValues(&random, rows: rows, perRow: width * inputChannels)
        let input = QuantizedRows(values, rows: rows, channels: inputChannels, stride: convolution.inputStride)
        let scales = FloatBuffer(input.scales.map(\.scale))
        let output = FloatBuffer(repeating: .nan, count: pixelCount * outputChannels)
        defer { input.deallocate(); scales.deallocate(); output.deallocate() }
        input.scales.map(\.zeroPoint).withUnsafeBufferPointer { zeroPoints in
            convolution.forward(input: .init(bytes: input.bytes, scales: scales.pointer,
                                             zeroPoints: zeroPoints.baseAddress!, pixelsPerScale: width),
                                residual: nil, clamp: .none, output: output.pointer, pixels: 0..<pixelCount)
        }
        let results = output.values
        var worstRatio: Float = 0
        for pixel in 0..<pixelCount {
            let sx = input.scales[pixel / width].scale
            for channel in 0..<outputChannels {
                let sw = convolution.weightScale(output: channel)
                var exact = bias[channel]
                var bound: Float = 0
                for k in 0..<inputChannels {
                    let (x, w) = (values[pixel * inputChannels + k], weights[channel * inputChannels + k])
                    exact += x * w
                    bound += abs(w) * sx / 2 + abs(x) * sw / 2 + sx * sw / 4
                }
                bound += 1e-4 * max(1, abs(exact))
                worstRatio = max(worstRatio, abs(results[pixel * outputChannels + channel] - exact) / bound)
            }
        }
        #expect(worstRatio <= 1, "worst error / bound = \(worstRatio)")
    }

    // Quantized rows against the formula, round half to even as the CPU rounds; padding bytes come out zero.
    @Test(arguments: [(5, 8), (19, 20), (16, 16), (40, 40)])
    func quantizeMatchesFormula(channels: Int, stride: Int) {
        var random = SplitMix64(seed: UInt64(channels))
        let pixels = 9
        let values = random.floats(pixels * channels, in: -1.5...4)
        let input = QuantizedRows(values, rows: 1, channels: channels, stride: stride)
        defer { input.deallocate() }
        let scale = input.scales[0]
        #expect(scale == .init(minimum: values.min()!, maximum: values.max()!))
        var mismatches = 0
        for pixel in 0..<pixels {
            for k in 0..<stride {
                let expected: UInt8 = k < channels
                    ? UInt8(max(0, min(255, (values[pixel * channels + k] * (1 / scale.scale))
                        .rounded(.toNearestOrEven) + Float(scale.zeroPoint))))
                    : 0
                if input.bytes[pixel * stride + k] != expected { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func activationScaleKeepsZeroExact() {
        typealias Scale = QuantizedPointwiseConvolution.ActivationScale
        let relu6 = Scale(minimum: 0, maximum: 6)
        #expect(relu6.scale == 6 / 255 && relu6.zeroPoint == 0)
        #expect(Scale(minimum: 1, maximum: 6).zeroPoint == 0, "the range widens to include 0")
        #expect(Scale(minimum: -5.1, maximum: -1).zeroPoint == 255)
        #expect((127...128).contains(Scale(minimum: -1, maximum: 1).zeroPoint), "the middle of 0...255")
        let zeros = Scale(minimum: 0, maximum: 0)
        #expect(zeros.scale == 1 && zeros.zeroPoint == 0, "an all-zero row")
        let subnormal = Scale(minimum: 0, maximum: 1e-38)
        #expect(subnormal.scale == 1 && subnormal.zeroPoint == 0, "a step below the normal floats")
    }

    // Symmetric per output channel: each channel's largest |w| maps to 127, every weight moves by at most sw/2.
    @Test func weightsQuantizePerOutputChannel() {
        let (inputChannels, outputChannels) = (7, 18)
        var random = SplitMix64(seed: 18)
        let weights = (0..<outputChannels).flatMap { random.floats(inputChannels, in: -Float($0 + 1)...Float($0 + 1)) }
        let convolution = QuantizedPointwiseConvolution(
            inputChannels: inputChannels, outputChannels: outputChannels,
            bias: [Float](repeating: 0, count: outputChannels)
        ) { output, input in weights[output * inputChannels + input] }
        for output in 0..<outputChannels {
            let row = weights[(output * inputChannels)..<((output + 1) * inputChannels)]
            let scale = convolution.weightScale(output: output)
            #expect(abs(scale - row.map(abs).max()! / 127) <= 1e-7 * Float(output + 1))
            for input in 0..<inputChannels {
                let restored = Float(convolution.quantizedWeight(output: output, input: input)) * scale
                #expect(abs(restored - weights[output * inputChannels + input]) <= scale / 2 * 1.0001)
            }
        }
    }
}
