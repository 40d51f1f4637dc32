import Foundation

/// SIMD elementwise kernels over contiguous `Float` ranges: the GEMM epilogue, residual additions, activations
/// and squeeze-and-excite scaling.
///
/// Each call touches only the elements (or pixels, or images) of its range, so calls on disjoint ranges may run
/// concurrently. Where an `output` is taken it may be the same buffer as an input (in-place operation).
package enum Elementwise {
    /// Adds `bias[channel]` (if any) and applies `clamp` in place to the pixels `pixels` of `values`
    /// `[pixelCount, channels]`: the epilogue of a convolution computed as a matrix product.
    package static func biasClamp(
        values: UnsafeMutablePointer<Float>, pixels: Range<Int>, channels: Int, bias: UnsafePointer<Float>?,
        clamp: Clamp
    ) {
        guard bias != nil || !clamp.isNone else { return }
        let lower16 = SIMD16<Float>(repeating: clamp.lower), upper16 = SIMD16<Float>(repeating: clamp.upper)
        for pixel in pixels {
            let row = values + pixel * channels
            var channel = 0
            while channel + 16 <= channels {
                let shift = bias.map { SIMD16<Float>(loadingFrom: $0 + channel) } ?? SIMD16(repeating: 0)
                (SIMD16<Float>(loadingFrom: row + channel) + shift).clamped(lower: lower16, upper: upper16)
                    .store(to: row + channel)
                channel += 16
            }
            while channel < channels {
                row[channel] = clamp.apply(row[channel] + (bias?[channel] ?? 0))
                channel += 1
            }
        }
    }

    /// `output[i] = clamp(a[i] + b[i])` for `i` in `range`.
    package static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        range: Range<Int>, clamp: Clamp
    ) {
        combine(a, b, output: output, range: range, clamp: clamp, +, +)
    }

    /// `output[i] = clamp(a[i] * b[i])` for `i` in `range`.
    package static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        range: Range<Int>, clamp: Clamp
    ) {
        combine(a, b, output: output, range: range, clamp: clamp, *, *)
    }

    /// `output[i] = clamp(values[i])` for `i` in `range`.
    package static func clamp(
        values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, range: Range<Int>, clamp: Clamp
    ) {
        let lower = SIMD16<Float>(repeating: clamp.lower), upper = SIMD16<Float>(repeating: clamp.upper)
        var index = range.lowerBound
        while index + 16 <= range.upperBound {
            SIMD16<Float>(loadingFrom: values + index).clamped(lower: lower, upper: upper).store(to: output + index)
            index += 16
        }
        while index < range.upperBound {
            output[index] = clamp.apply(values[index])
            index += 1
        }
    }

    /// Squeeze-and-excite scaling: `output[n, p, c] = values[n, p, c] * scales[n, c]` for the images `images`,
    /// with `values` and `output` NHWC `[batch, pixelsPerImage, channels]` and `scales` `[batch, channels]`.
    package static func channelScale(
        values: UnsafePointer<Float>, scales: UnsafePointer<Float>, pixelsPerImage: Int, channels: Int,
        images: Range<Int>, output: UnsafeMutablePointer<Float>
    ) {
        for image in images {
            let imageScales = scales + image * channels
            for pixel in 0..<pixelsPerImage {
                let offset = (image * pixelsPerImage + pixel) * channels
                let source = values + offset, destination = output + offset
                var channel = 0
                while channel + 16 <= channels {
                    (SIMD16<Float>(loadingFrom: source + channel) * SIMD16<Float>(loadingFrom: imageScales + channel))
                        .store(to: destination + channel)
                    channel += 16
                }
                while channel < channels {
                    destination[channel] = source[channel] * imageScales[channel]
                    channel += 1
                }
            }
        }
    }

    /// `output[i] = 1 / (1 + e^-values[i])` for `i` in `range`, within about 1e-7 absolute of the exact value.
    package static func sigmoid(values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, range: Range<Int>) {
        var index = range.lowerBound
        while index + 8 <= range.upperBound {
            sigmoid(SIMD8<Float>(loadingFrom: values + index)).store(to: output + index)
            index += 8
        }
        let remaining = range.upperBound - index
        guard remaining > 0 else { return }
        // The tail goes through the same vector code, so every element gets identical rounding.
        var tail = SIMD8<Float>(repeating: 0)
        for lane in 0..<remaining { tail[lane] = values[index + lane] }
        let result = sigmoid(tail)
        for lane in 0..<remaining { output[index + lane] = result[lane] }
    }

    @inline(__always)
    private static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(repeating: 1) / (SIMD8(repeating: 1) + VectorMath.exp(SIMD8(repeating: 0) - x))
    }

    @inline(__always)
    private static func combine(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        range: Range<Int>, clamp: Clamp,
        _ vectorOperation: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>, _ scalarOperation: (Float, Float) -> Float
    ) {
        let lower = SIMD16<Float>(repeating: clamp.lower), upper = SIMD16<Float>(repeating: clamp.upper)
        var index = range.lowerBound
        while index + 16 <= range.upperBound {
            vectorOperation(SIMD16<Float>(loadingFrom: a + index), SIMD16<Float>(loadingFrom: b + index))
                .clamped(lower: lower, upper: upper).store(to: output + index)
            index += 16
        }
        while index < range.upperBound {
            output[index] = clamp.apply(scalarOperation(a[index], b[index]))
            index += 1
        }
    }

    // MARK: - References

    /// Naive loop implementation of `biasClamp`, the oracle for tests.
    package static func referenceBiasClamp(
        values: UnsafeMutablePointer<Float>, pixels: Range<Int>, channels: Int, bias: UnsafePointer<Float>?,
        clamp: Clamp
    ) {
        for pixel in pixels {
            for channel in 0..<channels {
                let index = pixel * channels + channel
                values[index] = clamp.apply(values[index] + (bias?[channel] ?? 0))
            }
        }
    }

    /// Naive loop implementation of `add`, the oracle for tests.
    package static func referenceAdd(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        range: Range<Int>, clamp: Clamp
    ) {
        for index in range { output[index] = clamp.apply(a[index] + b[index]) }
    }

    /// Naive loop implementation of `multiply`, the oracle for tests.
    package static func referenceMultiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        range: Range<Int>, clamp: Clamp
    ) {
        for index in range { output[index] = clamp.apply(a[index] * b[index]) }
    }

    /// Naive loop implementation of `clamp`, the oracle for tests.
    package static func referenceClamp(
        values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, range: Range<Int>, clamp: Clamp
    ) {
        for index in range { output[index] = clamp.apply(values[index]) }
    }

    /// Naive loop implementation of `channelScale`, the oracle for tests.
    package static func referenceChannelScale(
        values: UnsafePointer<Float>, scales: UnsafePointer<Float>, pixelsPerImage: Int, channels: Int,
        images: Range<Int>, output: UnsafeMutablePointer<Float>
    ) {
        for image in images {
            for pixel in 0..<pixelsPerImage {
                for channel in 0..<channels {
                    let index = (image * pixelsPerImage + pixel) * channels + channel
                    output[index] = values[index] * scales[image * channels + channel]
                }
            }
        }
    }

    /// `sigmoid` computed in `Double` with Foundation's `exp`, the oracle for tests.
    package static func referenceSigmoid(
        values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, range: Range<Int>
    ) {
        for index in range { output[index] = Float(1 / (1 + Foundation.exp(-Double(values[index])))) }
    }
}
