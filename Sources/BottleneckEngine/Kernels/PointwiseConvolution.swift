/// 1x1 convolution over NHWC pixels as a register-blocked matrix product with the whole epilogue fused:
/// `output[p, n] = clamp(sum_k input[p, k] * weights[k, n] + bias[n] + residual[p, n])`.
///
/// Weights are packed once into panels of 16 output channels (`[panel][inputChannels][16]`, zero padded), so
/// the inner loop reads them contiguously; a tile of 6 pixels x 16 channels is accumulated in registers
/// (12 AVX2 registers) and leaves them only after bias, residual and clamp are applied. Compared with sgemm plus
/// a separate epilogue pass this saves packing the weights on every call and a round trip of the output through
/// the cache.
package enum PointwiseConvolution {
    /// Output channels per packed panel: one `SIMD16<Float>`.
    package static let panelWidth = 16
    /// Pixels per register tile.
    static let tileRows = 6
    /// Above this many bytes of packed weights, panels become the outer loop so each panel stays in L2 while
    /// every tile of pixels passes over it.
    static let panelOuterThreshold = 512 << 10

    /// Packs `weights` `[inputChannels, outputChannels]` (row-major) into `[panel][inputChannels][16]`.
    package static func pack(weights: UnsafePointer<Float>, inputChannels: Int, outputChannels: Int) -> [Float] {
        let panels = (outputChannels + panelWidth - 1) / panelWidth
        var packed = [Float](repeating: 0, count: panels * inputChannels * panelWidth)
        for panel in 0..<panels {
            for input in 0..<inputChannels {
                for lane in 0..<min(panelWidth, outputChannels - panel * panelWidth) {
                    packed[(panel * inputChannels + input) * panelWidth + lane] =
                        weights[input * outputChannels + panel * panelWidth + lane]
                }
            }
        }
        return packed
    }

    /// Computes the output pixels `pixels` (rows of `[pixelCount, outputChannels]`); calls on disjoint ranges may
    /// run concurrently.
    /// - Parameters:
    ///   - input: `[pixelCount, inputChannels]`.
    ///   - packedWeights: from `pack(weights:inputChannels:outputChannels:)`.
    ///   - bias: `[outputChannels]`.
    ///   - residual: `[pixelCount, outputChannels]` added before the clamp, or nil. May not alias `output`
    ///     unless it is the same buffer (then each element is read before it is written).
    package static func forward(
        input: UnsafePointer<Float>, inputChannels: Int, packedWeights: UnsafePointer<Float>, outputChannels: Int,
        bias: UnsafePointer<Float>, residual: UnsafePointer<Float>?, clamp: Clamp,
        output: UnsafeMutablePointer<Float>, pixels: Range<Int>
    ) {
        let panels = (outputChannels + panelWidth - 1) / panelWidth
        let context = Context(input: input, inputChannels: inputChannels, packedWeights: packedWeights,
                              outputChannels: outputChannels, bias: bias, residual: residual,
                              lower: SIMD16(repeating: clamp.lower), upper: SIMD16(repeating: clamp.upper),
                              output: output)
        let tiles = stride(from: pixels.lowerBound, to: pixels.upperBound, by: tileRows)
        if panels * inputChannels * panelWidth * 4 > panelOuterThreshold {
            for panel in 0..<panels {
                for first in tiles { context.tile(first: first, rows: min(tileRows, pixels.upperBound - first), panel: panel) }
            }
        } else {
            for first in tiles {
                for panel in 0..<panels {
                    context.tile(first: first, rows: min(tileRows, pixels.upperBound - first), panel: panel)
                }
            }
        }
    }

    /// Naive loops over unpacked weights `[inputChannels, outputChannels]`, in Double.
    package static func reference(
        input: UnsafePointer<Float>, inputChannels: Int, weights: UnsafePointer<Float>, outputChannels: Int,
        bias: UnsafePointer<Float>, residual: UnsafePointer<Float>?, clamp: Clamp,
        output: UnsafeMutablePointer<Float>, pixels: Range<Int>
    ) {
        for pixel in pixels {
            for channel in 0..<outputChannels {
                var sum = Double(bias[channel])
                for k in 0..<inputChannels {
                    sum += Double(input[pixel * inputChannels + k]) * Double(weights[k * outputChannels + channel])
                }
                if let residual { sum += Double(residual[pixel * outputChannels + channel]) }
                output[pixel * outputChannels + channel] = clamp.apply(Float(sum))
            }
        }
    }

    /// The operands of one call, so the tile kernel takes few arguments.
    private struct Context {
        let input: UnsafePointer<Float>
        let inputChannels: Int
        let packedWeights: UnsafePointer<Float>
        let outputChannels: Int
        let bias: UnsafePointer<Float>
        let residual: UnsafePointer<Float>?
        let lower: SIMD16<Float>
        let upper: SIMD16<Float>
        let output: UnsafeMutablePointer<Float>

        /// Output pixels `first ..< first + rows` (rows <= 6) by the 16 channels of `panel`. A short tile repeats
        /// its first row in the missing rows' registers (computed, never stored) so one loop serves every tile.
        @inline(__always)
        func tile(first: Int, rows: Int, panel: Int) {
            let weights = packedWeights + panel * inputChannels * PointwiseConvolution.panelWidth
            let k = inputChannels
            // One pointer per pixel row and wrapping index arithmetic keep the loop free of overflow checks, so
            // the 12 accumulators stay in registers.
            let a0 = input + first * k
            let a1 = a0 + (rows > 1 ? k : 0), a2 = a0 + (rows > 2 ? 2 * k : 0)
            let a3 = a0 + (rows > 3 ? 3 * k : 0), a4 = a0 + (rows > 4 ? 4 * k : 0), a5 = a0 + (rows > 5 ? 5 * k : 0)
            var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
            var c3 = SIMD16<Float>(), c4 = SIMD16<Float>(), c5 = SIMD16<Float>()
            var w = UnsafeRawPointer(weights)
            var index = 0
            while index < k {
                let wv = w.loadUnaligned(as: SIMD16<Float>.self)
                c0.addProduct(SIMD16(repeating: a0[index]), wv)
                c1.addProduct(SIMD16(repeating: a1[index]), wv)
                c2.addProduct(SIMD16(repeating: a2[index]), wv)
                c3.addProduct(SIMD16(repeating: a3[index]), wv)
                c4.addProduct(SIMD16(repeating: a4[index]), wv)
                c5.addProduct(SIMD16(repeating: a5[index]), wv)
                w += 64
                index &+= 1
            }
            let channel = panel * PointwiseConvolution.panelWidth
            let lanes = min(PointwiseConvolution.panelWidth, outputChannels - channel)
            let accumulators = (c0, c1, c2, c3, c4, c5)
            for row in 0..<rows {
                let sum = switch row {
                case 0: accumulators.0
                case 1: accumulators.1
                case 2: accumulators.2
                case 3: accumulators.3
                case 4: accumulators.4
                default: accumulators.5
                }
                store(sum, pixel: first + row, channel: channel, lanes: lanes)
            }
        }

        /// Adds bias and residual, clamps and writes `lanes` channels of one pixel.
        @inline(__always)
        private func store(_ sum: SIMD16<Float>, pixel: Int, channel: Int, lanes: Int) {
            let offset = pixel * outputChannels + channel
            if lanes == PointwiseConvolution.panelWidth {
                var value = sum + SIMD16<Float>(loadingFrom: bias + channel)
                if let residual { value += SIMD16<Float>(loadingFrom: residual + offset) }
                value.clamped(lower: lower, upper: upper).store(to: output + offset)
            } else {
                for lane in 0..<lanes {
                    var value = sum[lane] + bias[channel + lane]
                    if let residual { value += residual[offset + lane] }
                    output[offset + lane] = Swift.min(Swift.max(value, lower[0]), upper[0])
                }
            }
        }
    }
}
