/// Max, average and global average pooling over NHWC tensors, with ONNX semantics.
///
/// Windowed pools take a geometry with `inputChannels == outputChannels` (its `groups` is ignored): input
/// `[batch, inputHeight, inputWidth, channels]`, output `[batch, outputHeight, outputWidth, channels]`. They
/// compute output rows `rows` (row `n * outputHeight + y`, within `0..<geometry.outputRows`), write only those
/// rows, and so may run concurrently on disjoint row ranges. Channels go in SIMD blocks of 16, 8, then 1.
package enum Pooling {
    /// `MaxPool`: the largest input under each window; padding is ignored, never a candidate.
    /// A window lying entirely in the padding yields `-infinity`.
    package static func max(
        geometry: ConvolutionGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        rows: Range<Int>
    ) {
        pool(.max, geometry: geometry, input: input, output: output, rows: rows)
    }

    /// `AveragePool`: the mean of each window. With `countIncludePad` the divisor is always
    /// `kernelHeight * kernelWidth` (padding counts as zeros); otherwise it is the number of taps inside the
    /// input. A window lying entirely in the padding yields 0 with `countIncludePad`, otherwise NaN.
    package static func average(
        geometry: ConvolutionGeometry, countIncludePad: Bool, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        pool(.average(countIncludePad: countIncludePad), geometry: geometry, input: input, output: output,
             rows: rows)
    }

    /// `GlobalAveragePool`: the mean over all pixels of each image, `[batch, spatial, channels]` to
    /// `[batch, channels]`, for the images in `images` (writes only their output rows).
    package static func globalAverage(
        batch: Int, spatial: Int, channels: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        images: Range<Int>
    ) {
        precondition(images.lowerBound >= 0 && images.upperBound <= batch, "images out of range")
        precondition(spatial > 0 && channels > 0)
        let scale = 1 / Float(spatial)
        for image in images {
            let source = input + image * spatial * channels
            let destination = output + image * channels
            var channel = 0
            while channel + 16 <= channels {
                averagePixels(SIMD16<Float>.self, source + channel, channels: channels, spatial: spatial,
                              scale: scale, to: destination + channel)
                channel += 16
            }
            if channel + 8 <= channels {
                averagePixels(SIMD8<Float>.self, source + channel, channels: channels, spatial: spatial,
                              scale: scale, to: destination + channel)
                channel += 8
            }
            while channel < channels {
                averagePixels(Float.self, source + channel, channels: channels, spatial: spatial,
                              scale: scale, to: destination + channel)
                channel += 1
            }
        }
    }

    // MARK: - References

    /// Naive loop implementation of `max`, the oracle for tests.
    package static func referenceMax(
        geometry: ConvolutionGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        rows: Range<Int>
    ) {
        referenceWindows(geometry: geometry, input: input, output: output, rows: rows) { values, _ in
            values.reduce(-Float.infinity) { Swift.max($0, $1) }
        }
    }

    /// Naive loop implementation of `average`, the oracle for tests.
    package static func referenceAverage(
        geometry: ConvolutionGeometry, countIncludePad: Bool, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        referenceWindows(geometry: geometry, input: input, output: output, rows: rows) { values, kernelTaps in
            values.reduce(0, +) / Float(countIncludePad ? kernelTaps : values.count)
        }
    }

    /// Naive loop implementation of `globalAverage`, the oracle for tests.
    package static func referenceGlobalAverage(
        batch: Int, spatial: Int, channels: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        images: Range<Int>
    ) {
        for image in images {
            for channel in 0..<channels {
                var sum: Float = 0
                for pixel in 0..<spatial { sum += input[(image * spatial + pixel) * channels + channel] }
                output[image * channels + channel] = sum / Float(spatial)
            }
        }
    }

    /// Calls `reduce` with the in-input values under each window of each output element in `rows`, and the
    /// kernel's tap count.
    private static func referenceWindows(
        geometry g: ConvolutionGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        rows: Range<Int>, reduce: ([Float], Int) -> Float
    ) {
        precondition(g.inputChannels == g.outputChannels, "pooling keeps the channel count")
        let channels = g.inputChannels
        for row in rows {
            let n = row / g.outputHeight
            let outputY = row % g.outputHeight
            for outputX in 0..<g.outputWidth {
                for c in 0..<channels {
                    var values: [Float] = []
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let inputY = outputY * g.strideHeight - g.padTop + ky
                            let inputX = outputX * g.strideWidth - g.padLeft + kx
                            guard inputY >= 0 && inputY < g.inputHeight && inputX >= 0 && inputX < g.inputWidth
                            else { continue }
                            values.append(input[((n * g.inputHeight + inputY) * g.inputWidth + inputX) * channels + c])
                        }
                    }
                    output[(row * g.outputWidth + outputX) * channels + c] =
                        reduce(values, g.kernelHeight * g.kernelWidth)
                }
            }
        }
    }

    // MARK: - Fast path

    private enum Reduction {
        case max
        case average(countIncludePad: Bool)
    }

    private static func pool(
        _ reduction: Reduction, geometry: ConvolutionGeometry, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        precondition(geometry.inputChannels == geometry.outputChannels, "pooling keeps the channel count")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= geometry.outputRows, "rows out of range")
        let channels = geometry.inputChannels
        for row in rows {
            let image = row / geometry.outputHeight
            let vertical = WindowSpan(outputY: row % geometry.outputHeight, of: geometry)
            let imageInput = input + image * geometry.inputHeight * geometry.inputWidth * channels
            for outputX in 0..<geometry.outputWidth {
                let horizontal = WindowSpan(outputX: outputX, of: geometry)
                let window = Window(
                    firstPixel: imageInput + ((vertical.origin + vertical.taps.lowerBound) * geometry.inputWidth
                        + horizontal.origin + horizontal.taps.lowerBound) * channels,
                    rowStride: geometry.inputWidth * channels, channels: channels,
                    validRows: vertical.taps.count, validColumns: horizontal.taps.count)
                let divisor: Int
                switch reduction {
                case .max: divisor = 1
                case .average(let countIncludePad):
                    divisor = countIncludePad ? geometry.kernelHeight * geometry.kernelWidth : window.tapCount
                }
                let destination = output + (row * geometry.outputWidth + outputX) * channels
                var channel = 0
                while channel + 16 <= channels {
                    window.reduce(SIMD16<Float>.self, reduction, divisor: divisor, channel: channel)
                        .store(to: destination + channel)
                    channel += 16
                }
                if channel + 8 <= channels {
                    window.reduce(SIMD8<Float>.self, reduction, divisor: divisor, channel: channel)
                        .store(to: destination + channel)
                    channel += 8
                }
                while channel < channels {
                    window.reduce(Float.self, reduction, divisor: divisor, channel: channel)
                        .store(to: destination + channel)
                    channel += 1
                }
            }
        }
    }

    /// The in-input part of one output pixel's window.
    private struct Window {
        /// Channel 0 of the input pixel under the first valid tap.
        let firstPixel: UnsafePointer<Float>
        /// Floats between vertically adjacent input pixels.
        let rowStride: Int
        /// Floats between horizontally adjacent input pixels.
        let channels: Int
        let validRows: Int
        let validColumns: Int

        var tapCount: Int { validRows * validColumns }

        /// The reduction over the window of channels `channel ..< channel + V.laneCount`; averages divide the
        /// sum by `divisor`.
        @inline(__always)
        func reduce<V: FloatVector>(_: V.Type, _ reduction: Reduction, divisor: Int, channel: Int) -> V {
            switch reduction {
            case .max:
                var largest = V(repeating: -.infinity)
                forEachPixel(channel: channel) { largest = V.maximum(largest, V(loadingFrom: $0)) }
                return largest
            case .average:
                var sum = V(repeating: 0)
                forEachPixel(channel: channel) { sum = sum + V(loadingFrom: $0) }
                return sum * V(repeating: 1 / Float(divisor))
            }
        }

        @inline(__always)
        private func forEachPixel(channel: Int, _ body: (UnsafePointer<Float>) -> Void) {
            var rowStart = firstPixel + channel
            for _ in 0..<validRows {
                var pixel = rowStart
                for _ in 0..<validColumns {
                    body(pixel)
                    pixel += channels
                }
                rowStart += rowStride
            }
        }
    }

    /// Sums `spatial` pixels `channels` floats apart, lanes `0..<V.laneCount`, and stores the sum times `scale`.
    @inline(__always)
    private static func averagePixels<V: FloatVector>(
        _: V.Type, _ source: UnsafePointer<Float>, channels: Int, spatial: Int, scale: Float,
        to destination: UnsafeMutablePointer<Float>
    ) {
        // Two accumulators (even and odd pixels) halve the dependency chain of additions.
        var evenPixels = V(repeating: 0)
        var oddPixels = V(repeating: 0)
        var pixel = 0
        while pixel + 2 <= spatial {
            evenPixels = evenPixels + V(loadingFrom: source + pixel * channels)
            oddPixels = oddPixels + V(loadingFrom: source + (pixel + 1) * channels)
            pixel += 2
        }
        if pixel < spatial { evenPixels = evenPixels + V(loadingFrom: source + pixel * channels) }
        ((evenPixels + oddPixels) * V(repeating: scale)).store(to: destination)
    }
}
