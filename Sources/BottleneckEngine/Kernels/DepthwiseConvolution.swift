/// Depthwise 2-D convolution (`groups == inputChannels == outputChannels`) over NHWC tensors, with the bias and
/// the activation clamp fused into the store.
///
/// Layouts: input `[batch, inputHeight, inputWidth, channels]`, output `[batch, outputHeight, outputWidth,
/// channels]`, weights `[kernelHeight, kernelWidth, channels]` (ONNX `[C, 1, kH, kW]` transposed), bias
/// `[channels]`. All contiguous `Float`.
package enum DepthwiseConvolution {
    /// Computes the output rows `rows` (row `n * outputHeight + y`, within `0..<geometry.outputRows`).
    ///
    /// Writes only the output of those rows, so calls on disjoint row ranges may run concurrently.
    /// - Parameter bias: `[channels]`, or `nil` for none.
    package static func forward(
        geometry: ConvolutionGeometry, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, clamp: Clamp, output: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        let imageSize = geometry.inputHeight * geometry.inputWidth * geometry.inputChannels
        let rowSize = geometry.inputWidth * geometry.inputChannels
        forward(geometry: geometry, inputRow: { image, y in input + image * imageSize + y * rowSize },
                weights: weights, bias: bias, clamp: clamp,
                outputRow: { output + $0 * geometry.outputWidth * geometry.outputChannels }, rows: rows)
    }

    /// `forward` over input rows that need not be contiguous: `inputRow(n, y)` is pixel 0 of row `y` of image
    /// `n` (`inputWidth * channels` contiguous floats), and `outputRow(row)` is where output row `row` goes.
    /// Each is called once per output row and kernel row, so a caller may keep the input in a ring of rows.
    ///
    /// Kernels 3 or 5 wide (stride 1 or 2) run on `DepthwiseSlidingRow` in blocks of 8 channels, and only their
    /// last `channels % 8` channels here. Here channels go in SIMD blocks of 16, then 8, then one at a time. Columns go
    /// in tiles of 4 pixels that share each weight load and keep 4 independent accumulator chains: interior tiles
    /// read the input without bounds checks, tiles touching the padding read a zero vector for taps outside the
    /// input.
    package static func forward(
        geometry: ConvolutionGeometry, inputRow: (_ image: Int, _ y: Int) -> UnsafePointer<Float>,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, clamp: Clamp,
        outputRow: (Int) -> UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        precondition(geometry.isDepthwise, "not a depthwise convolution: \(geometry)")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= geometry.outputRows, "rows out of range")
        let interiorColumns = WindowSpan.interiorColumns(of: geometry)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { zeros in
            zeros.initialize(repeating: 0)
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: geometry.kernelHeight) { taps in
                for row in rows {
                    let (image, outputY) = row.quotientAndRemainder(dividingBy: geometry.outputHeight)
                    let vertical = WindowSpan(outputY: outputY, of: geometry)
                    for ky in vertical.taps { taps[ky] = inputRow(image, vertical.origin + ky) }
                    convolveRow(geometry: geometry, vertical: vertical, interiorColumns: interiorColumns,
                                inputRows: UnsafePointer(taps.baseAddress!), zeros: UnsafePointer(zeros.baseAddress!),
                                weights: weights, bias: bias, clamp: clamp, output: outputRow(row))
                }
            }
        }
    }

    /// One output row, channel block by channel block.
    /// - Parameters:
    ///   - inputRows: the input row under each kernel row in `vertical.taps`.
    ///   - zeros: 16 zeros, read by border tiles for taps that fall in the padding.
    private static func convolveRow(
        geometry: ConvolutionGeometry, vertical: WindowSpan, interiorColumns: Range<Int>,
        inputRows: UnsafePointer<UnsafePointer<Float>>, zeros: UnsafePointer<Float>, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, clamp: Clamp, output: UnsafeMutablePointer<Float>
    ) {
        let channels = geometry.inputChannels
        let task = RowTask(
            geometry: geometry, vertical: vertical, interiorColumns: interiorColumns, inputRows: inputRows,
            zeros: zeros, weights: weights, bias: bias, clamp: clamp, outputRow: output)
        var channel = 0
        if DepthwiseSlidingRow.supports(geometry) {
            channel = DepthwiseSlidingRow.convolve(
                geometry: geometry, taps: vertical.taps, inputRows: inputRows, weights: weights, bias: bias,
                clamp: clamp, outputRow: output)
        }
        while channel + 16 <= channels {
            task.convolve(SIMD16<Float>.self, channel: channel)
            channel += 16
        }
        if channel + 8 <= channels {
            task.convolve(SIMD8<Float>.self, channel: channel)
            channel += 8
        }
        while channel < channels {
            task.convolve(Float.self, channel: channel)
            channel += 1
        }
    }

    /// Naive loop implementation of `forward`, the oracle for tests: same contract, one tap at a time.
    package static func reference(
        geometry: ConvolutionGeometry, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, clamp: Clamp, output: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        precondition(geometry.isDepthwise, "not a depthwise convolution: \(geometry)")
        let g = geometry
        let channels = g.inputChannels
        for row in rows {
            let n = row / g.outputHeight
            let outputY = row % g.outputHeight
            for outputX in 0..<g.outputWidth {
                for c in 0..<channels {
                    var sum = bias?[c] ?? 0
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let inputY = outputY * g.strideHeight - g.padTop + ky
                            let inputX = outputX * g.strideWidth - g.padLeft + kx
                            guard inputY >= 0 && inputY < g.inputHeight && inputX >= 0 && inputX < g.inputWidth
                            else { continue }
                            let value = input[((n * g.inputHeight + inputY) * g.inputWidth + inputX) * channels + c]
                            sum += value * weights[(ky * g.kernelWidth + kx) * channels + c]
                        }
                    }
                    output[(row * g.outputWidth + outputX) * channels + c] = clamp.apply(sum)
                }
            }
        }
    }

    /// Everything one output row needs, so that the per-channel-block code reads as the arithmetic it does.
    private struct RowTask {
        let geometry: ConvolutionGeometry
        /// The kernel rows that land inside the input for this output row.
        let vertical: WindowSpan
        let interiorColumns: Range<Int>
        /// Pixel 0 of the input row under kernel row `ky`, for `ky` in `vertical.taps`.
        let inputRows: UnsafePointer<UnsafePointer<Float>>
        /// 16 zeros, read in place of input pixels in the padding.
        let zeros: UnsafePointer<Float>
        let weights: UnsafePointer<Float>
        let bias: UnsafePointer<Float>?
        let clamp: Clamp
        /// Pixel 0 of this output row.
        let outputRow: UnsafeMutablePointer<Float>

        /// Computes channels `channel ..< channel + V.laneCount` of every pixel in the row.
        @inline(__always)
        func convolve<V: FloatVector>(_: V.Type, channel: Int) {
            let initial = bias.map { V(loadingFrom: $0 + channel) } ?? V(repeating: 0)
            let lower = V(repeating: clamp.lower)
            let upper = V(repeating: clamp.upper)
            let width = geometry.outputWidth
            var x = 0
            while x + 4 <= width {
                if x >= interiorColumns.lowerBound && x + 4 <= interiorColumns.upperBound {
                    // A constant kernel width lets the compiler unroll the hot 3- and 5-wide tap loops completely.
                    switch geometry.kernelWidth {
                    case 3:
                        convolveInteriorTile(V.self, channel: channel, firstX: x, kernelWidth: 3, initial: initial,
                                             lower: lower, upper: upper)
                    case 5:
                        convolveInteriorTile(V.self, channel: channel, firstX: x, kernelWidth: 5, initial: initial,
                                             lower: lower, upper: upper)
                    default:
                        convolveInteriorTile(V.self, channel: channel, firstX: x, kernelWidth: geometry.kernelWidth,
                                             initial: initial, lower: lower, upper: upper)
                    }
                } else {
                    convolveBorderTile(V.self, channel: channel, columns: (x, x + 1, x + 2, x + 3), initial: initial,
                                       lower: lower, upper: upper)
                }
                x += 4
            }
            // The last 1-3 columns. A tile of 2 or 3 repeats its last column, computing and storing it twice,
            // which still beats one pixel at a time.
            switch width - x {
            case 1:
                convolvePixel(V.self, channel: channel, outputX: x, initial: initial, lower: lower, upper: upper)
            case 2:
                convolveBorderTile(V.self, channel: channel, columns: (x, x + 1, x + 1, x + 1), initial: initial,
                                   lower: lower, upper: upper)
            case 3:
                convolveBorderTile(V.self, channel: channel, columns: (x, x + 1, x + 2, x + 2), initial: initial,
                                   lower: lower, upper: upper)
            default:
                break
            }
        }

        /// One pixel, using only the taps that land inside the input.
        ///
        /// Even and odd kernel rows go to separate accumulators: two independent chains of fused multiply-adds
        /// instead of one halve the time spent waiting on the previous addition.
        @inline(__always)
        private func convolvePixel<V: FloatVector>(
            _: V.Type, channel: Int, outputX: Int, initial: V, lower: V, upper: V
        ) {
            let channels = geometry.inputChannels
            let horizontal = WindowSpan(outputX: outputX, of: geometry)
            var evenRows = initial
            var oddRows = V(repeating: 0)
            var ky = vertical.taps.lowerBound
            while ky < vertical.taps.upperBound {
                let hasOddRow = ky + 1 < vertical.taps.upperBound
                let column = (horizontal.origin + horizontal.taps.lowerBound) * channels + channel
                var source = inputRows[ky] + column
                var oddSource = hasOddRow ? inputRows[ky + 1] + column : source
                var weight = weights + (ky * geometry.kernelWidth + horizontal.taps.lowerBound) * channels + channel
                for _ in horizontal.taps {
                    evenRows.addProduct(V(loadingFrom: source), V(loadingFrom: weight))
                    if hasOddRow {
                        oddRows.addProduct(V(loadingFrom: oddSource),
                                           V(loadingFrom: weight + geometry.kernelWidth * channels))
                    }
                    source += channels
                    oddSource += channels
                    weight += channels
                }
                ky += 2
            }
            (evenRows + oddRows).clamped(lower: lower, upper: upper).store(to: outputRow + outputX * channels + channel)
        }

        /// 4 neighbouring pixels whose windows lie horizontally inside the input.
        @inline(__always)
        private func convolveInteriorTile<V: FloatVector>(
            _: V.Type, channel: Int, firstX: Int, kernelWidth: Int, initial: V, lower: V, upper: V
        ) {
            let channels = geometry.inputChannels
            let pixelStep = geometry.strideWidth * channels
            let inputX = firstX * geometry.strideWidth - geometry.padLeft
            var sum0 = initial, sum1 = initial, sum2 = initial, sum3 = initial
            for ky in vertical.taps {
                var source = inputRows[ky] + inputX * channels + channel
                var weight = weights + ky * kernelWidth * channels + channel
                for _ in 0..<kernelWidth {
                    let w = V(loadingFrom: weight)
                    sum0.addProduct(V(loadingFrom: source), w)
                    sum1.addProduct(V(loadingFrom: source + pixelStep), w)
                    sum2.addProduct(V(loadingFrom: source + 2 * pixelStep), w)
                    sum3.addProduct(V(loadingFrom: source + 3 * pixelStep), w)
                    source += channels
                    weight += channels
                }
            }
            let destination = outputRow + firstX * channels + channel
            sum0.clamped(lower: lower, upper: upper).store(to: destination)
            sum1.clamped(lower: lower, upper: upper).store(to: destination + channels)
            sum2.clamped(lower: lower, upper: upper).store(to: destination + 2 * channels)
            sum3.clamped(lower: lower, upper: upper).store(to: destination + 3 * channels)
        }

        /// 4 pixels at any columns (possibly repeated), whose windows may reach into the left or right padding:
        /// a tap outside the input reads `zeros` instead.
        @inline(__always)
        private func convolveBorderTile<V: FloatVector>(
            _: V.Type, channel: Int, columns: (Int, Int, Int, Int), initial: V, lower: V, upper: V
        ) {
            let channels = geometry.inputChannels
            let stride = geometry.strideWidth, padLeft = geometry.padLeft
            let origins = (columns.0 * stride - padLeft, columns.1 * stride - padLeft,
                           columns.2 * stride - padLeft, columns.3 * stride - padLeft)
            var sum0 = initial, sum1 = initial, sum2 = initial, sum3 = initial
            for ky in vertical.taps {
                let inputRow = inputRows[ky] + channel
                var weight = weights + ky * geometry.kernelWidth * channels + channel
                for kx in 0..<geometry.kernelWidth {
                    let w = V(loadingFrom: weight)
                    sum0.addProduct(V(loadingFrom: tap(inputRow, column: origins.0 + kx)), w)
                    sum1.addProduct(V(loadingFrom: tap(inputRow, column: origins.1 + kx)), w)
                    sum2.addProduct(V(loadingFrom: tap(inputRow, column: origins.2 + kx)), w)
                    sum3.addProduct(V(loadingFrom: tap(inputRow, column: origins.3 + kx)), w)
                    weight += channels
                }
            }
            sum0.clamped(lower: lower, upper: upper).store(to: outputRow + columns.0 * channels + channel)
            sum1.clamped(lower: lower, upper: upper).store(to: outputRow + columns.1 * channels + channel)
            sum2.clamped(lower: lower, upper: upper).store(to: outputRow + columns.2 * channels + channel)
            sum3.clamped(lower: lower, upper: upper).store(to: outputRow + columns.3 * channels + channel)
        }

        /// The input at `column` of the row starting at `inputRow`, or `zeros` if the column is in the padding.
        @inline(__always)
        private func tap(_ inputRow: UnsafePointer<Float>, column: Int) -> UnsafePointer<Float> {
            UInt(bitPattern: column) < UInt(bitPattern: geometry.inputWidth)
                ? inputRow + column * geometry.inputChannels : zeros
        }
    }
}
