import CInt8Kernels

/// A 1x1 convolution in int8 on AVX-512 VNNI, its fp32 epilogue fused:
/// `output[p, n] = clamp(sx * sw[n] * sum_k (xq[p, k] - zx) * wq[k, n] + bias[n] + residual[p, n])`.
///
/// Weights are quantized once, symmetric per output channel (`wq = round(w / sw)`, `sw = max|w| / 127`).
/// Activations are quantized as they arrive, one scale per image row, asymmetric over the row's own range
/// (`xq = round(x / sx) + zx` in 0...255, the range widened to include 0 so that 0 is exact): no calibration data
/// is needed, and an image's features depend neither on the batch it came in nor on how threads split the rows
/// (rows are what they split). `vpdpbusd` sums four u8 x s8 products per int32 lane without saturation
/// (|sum| <= 255 * 127 * inputs, far inside int32), and the zero point comes out of the sum as
/// `zx * sum_k wq[k, n]`, precomputed per channel.
///
/// Quantized pixels are rows of `inputStride` bytes (input channels rounded up to 4, padding zero); weights are
/// packed `[panel][inputStride / 4][16 channels][4 inputs]` so that one 64-byte load feeds a panel's 16 lanes.
package final class QuantizedPointwiseConvolution: Sendable {
    /// Output channels per panel: one zmm register of int32 sums.
    package static let panelWidth = 16

    /// Whether this CPU runs the kernel (AVX-512 F/BW/VL/DQ and VNNI, with the OS saving the zmm state).
    package static let isSupported = bottleneck_int8_available() != 0

    package let inputChannels: Int
    package let outputChannels: Int
    /// Bytes per quantized pixel: the input channels rounded up to a multiple of 4.
    package let inputStride: Int
    /// `[panel][inputStride / 4][16][4]`, zero padded.
    let weights: [Int8]
    /// Per output channel, padded to whole panels: `sw`, `sum_k wq[k, n]` and the bias.
    let weightScales: [Float]
    let weightSums: [Int32]
    let bias: [Float]

    package var panelCount: Int { Self.panelCount(outputChannels: outputChannels) }

    static func panelCount(outputChannels: Int) -> Int { (outputChannels + panelWidth - 1) / panelWidth }

    /// Where the weight of `output` from `input` sits in `weights`.
    static func weightIndex(output: Int, input: Int, inputStride: Int) -> Int {
        let (panel, lane) = output.quotientAndRemainder(dividingBy: panelWidth)
        let (group, position) = input.quotientAndRemainder(dividingBy: 4)
        return ((panel * inputStride / 4 + group) * panelWidth + lane) * 4 + position
    }

    /// Quantizes fp32 weights given by `weight(outputChannel, inputChannel)`. Requires `isSupported`: the kernels
    /// would stop the process with an illegal instruction elsewhere (`Precision.int8` is refused there first).
    package init(inputChannels: Int, outputChannels: Int, bias: [Float], weight: (Int, Int) -> Float) {
        precondition(Self.isSupported, "the int8 kernels need AVX-512 VNNI: check isSupported first")
        precondition(inputChannels > 0 && outputChannels > 0 && bias.count == outputChannels)
        let panels = Self.panelCount(outputChannels: outputChannels)
        let stride = (inputChannels + 3) / 4 * 4
        let padded = panels * Self.panelWidth
        var weights = [Int8](repeating: 0, count: panels * stride * Self.panelWidth)
        var scales = [Float](repeating: 0, count: padded)
        var sums = [Int32](repeating: 0, count: padded)
        for output in 0..<outputChannels {
            let largest = (0..<inputChannels).reduce(Float(0)) { max($0, abs(weight(output, $1))) }
            let scale = largest > 0 ? largest / 127 : 1
            var sum: Int32 = 0
            for input in 0..<inputChannels {
                let quantized = Int8(max(-127, min(127, (weight(output, input) / scale).rounded())))
                weights[Self.weightIndex(output: output, input: input, inputStride: stride)] = quantized
                sum += Int32(quantized)
            }
            scales[output] = scale
            sums[output] = sum
        }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.inputStride = stride
        self.weights = weights
        self.weightScales = scales
        self.weightSums = sums
        self.bias = bias + [Float](repeating: 0, count: padded - outputChannels)
    }

    /// The quantized weight of `output` from `input` (for tests and the reference).
    package func quantizedWeight(output: Int, input: Int) -> Int8 {
        weights[Self.weightIndex(output: output, input: input, inputStride: inputStride)]
    }

    /// The scale of `output`'s weights.
    package func weightScale(output: Int) -> Float { weightScales[output] }

    /// How a group of activations (an image row) maps to u8: `x ~ sx * (xq - zx)`.
    package struct ActivationScale: Sendable, Equatable {
        package var scale: Float
        package var zeroPoint: Int32

        /// The scale spreading `minimum...maximum`, widened to include 0, over 0...255 (1 for an all-zero range,
        /// or one too narrow for a normal float step).
        package init(minimum: Float, maximum: Float) {
            let (low, high) = (min(minimum, 0), max(maximum, 0))
            let step = (high - low) / 255
            scale = step.isNormal ? step : 1
            zeroPoint = Int32(max(0, min(255, (-low / scale).rounded())))
        }
    }

    /// Quantizes `pixels` pixels of `channels` floats (an image row) into pixels of `stride` bytes over their own
    /// range and returns the scale it chose.
    package static func quantize(
        input: UnsafePointer<Float>, pixels: Int, channels: Int, output: UnsafeMutablePointer<UInt8>, stride: Int
    ) -> ActivationScale {
        precondition(isSupported && pixels > 0 && stride >= channels && stride % 4 == 0)
        var (minimum, maximum): (Float, Float) = (0, 0)
        bottleneck_int8_range(input, pixels * channels, &minimum, &maximum)
        let scale = ActivationScale(minimum: minimum, maximum: maximum)
        bottleneck_int8_quantize_rows(input, pixels, channels, 1 / scale.scale, scale.zeroPoint, output, stride)
        return scale
    }

    /// Quantized pixels and the scales they were quantized with.
    package struct Input {
        /// Pixels of `inputStride` bytes.
        package var bytes: UnsafePointer<UInt8>
        /// Per group of `pixelsPerScale` consecutive pixels (an image row): their scale and zero point.
        package var scales: UnsafePointer<Float>
        package var zeroPoints: UnsafePointer<Int32>
        package var pixelsPerScale: Int

        package init(bytes: UnsafePointer<UInt8>, scales: UnsafePointer<Float>, zeroPoints: UnsafePointer<Int32>,
                     pixelsPerScale: Int) {
            self.bytes = bytes
            self.scales = scales
            self.zeroPoints = zeroPoints
            self.pixelsPerScale = pixelsPerScale
        }
    }

    /// Computes output pixels `pixels` in the 16-channel panels `panels` (nil: all); calls on disjoint ranges may
    /// run concurrently.
    /// - Parameters:
    ///   - input: pixel `p` at `input.bytes + p * inputStride`, quantized with scale `p / input.pixelsPerScale`.
    ///   - residual: `[pixelCount, outputChannels]` added before the clamp, or nil.
    ///   - output: `[pixelCount, outputChannels]`.
    package func forward(
        input: Input, residual: UnsafePointer<Float>?, clamp: Clamp, output: UnsafeMutablePointer<Float>,
        pixels: Range<Int>, panels: Range<Int>? = nil
    ) {
        let panels = panels ?? 0..<panelCount
        guard !pixels.isEmpty, !panels.isEmpty else { return }
        weights.withUnsafeBufferPointer { weights in
            weightScales.withUnsafeBufferPointer { scales in
                weightSums.withUnsafeBufferPointer { sums in
                    bias.withUnsafeBufferPointer { bias in
                        var convolution = bottleneck_int8_pointwise(
                            input: input.bytes, input_stride: inputStride, weights: weights.baseAddress!,
                            output_channels: outputChannels, weight_scales: scales.baseAddress!,
                            weight_sums: sums.baseAddress!, bias: bias.baseAddress!, scales: input.scales,
                            zero_points: input.zeroPoints, pixels_per_scale: input.pixelsPerScale,
                            residual: residual, lower: clamp.lower, upper: clamp.upper, output: output)
                        bottleneck_int8_pointwise_forward(&convolution, pixels.lowerBound, pixels.upperBound,
                                                          panels.lowerBound, panels.upperBound)
                    }
                }
            }
        }
    }

    /// The same arithmetic in plain loops (integer sums, then the fp32 epilogue), the kernel's test reference.
    package func reference(
        input: UnsafePointer<UInt8>, scales: [ActivationScale], pixelsPerScale: Int,
        residual: UnsafePointer<Float>?, clamp: Clamp, output: UnsafeMutablePointer<Float>, pixelCount: Int
    ) {
        for pixel in 0..<pixelCount {
            let scale = scales[pixel / pixelsPerScale]
            for channel in 0..<outputChannels {
                var sum: Int32 = 0
                for k in 0..<inputChannels {
                    sum += Int32(input[pixel * inputStride + k]) * Int32(quantizedWeight(output: channel, input: k))
                }
                let centred = sum - scale.zeroPoint * weightSums[channel]
                var value = Float(centred) * (scale.scale * weightScales[channel]) + bias[channel]
                if let residual { value += residual[pixel * outputChannels + channel] }
                output[pixel * outputChannels + channel] = clamp.apply(value)
            }
        }
    }
}
