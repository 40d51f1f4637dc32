/// Dense or grouped 2-D convolution (any kernel, stride and padding) over NHWC tensors as an indirect matrix
/// product with the whole epilogue fused: `output[p, o] = clamp(sum_(ky, kx, c) input[tap(p, ky, kx), c] *
/// weight[o, c, ky, kx] + bias[o] + residual[p, o])`.
///
/// Instead of unfolding the windows into an im2col matrix, a tile of up to 6 neighbouring pixels of one output row
/// reads the input in place through one pointer per pixel, re-aimed run by run: a run is one tap's channels, or
/// with one group and windows horizontally inside the input a whole kernel row (`kernelWidth * inputChannels`
/// contiguous floats). A tap in the left or right padding reads zeros; kernel rows in the top or bottom padding are
/// skipped. As in `PointwiseConvolution`, a tile accumulates 6 pixels x 16 output channels in 12 AVX2 registers
/// against weights packed in 16-channel panels, and leaves them only after bias, residual and clamp are applied.
///
/// Layouts (contiguous `Float`): input `[batch, inputHeight, inputWidth, inputChannels]`; output and residual
/// `[batch, outputHeight, outputWidth, outputChannels]`; bias `[outputChannels]`; weights packed by `pack` as
/// `[group][panel][kernelHeight, kernelWidth, inputChannels/groups][16]`, panel `p` of a group holding that group's
/// output channels `16p ..< 16p + 16` (the last panel zero padded). Scratch: `scratchCount` floats.
package enum IndirectConvolution {
    /// Output channels per packed panel: one `SIMD16<Float>`.
    static let panelWidth = 16
    /// Output pixels per register tile.
    static let tileColumns = 6
    /// Above this many bytes of packed weights per group, panels become the outer loop so each panel stays in L2
    /// while every output row passes over it.
    static let panelOuterThreshold = 512 << 10

    /// Panels of 16 output channels in each group.
    static func panelCount(outputChannelsPerGroup: Int) -> Int {
        (outputChannelsPerGroup + panelWidth - 1) / panelWidth
    }

    /// Packs ONNX weights `[outputChannels, inputChannelsPerGroup, kernelHeight, kernelWidth]` into
    /// `[group][panel][kernelHeight, kernelWidth, inputChannelsPerGroup][16]`.
    package static func pack(
        weightsOIHW: UnsafePointer<Float>, outputChannels: Int, inputChannelsPerGroup: Int, kernelHeight: Int,
        kernelWidth: Int, groups: Int
    ) -> [Float] {
        let outputsPerGroup = outputChannels / groups
        let panels = panelCount(outputChannelsPerGroup: outputsPerGroup)
        let depth = kernelHeight * kernelWidth * inputChannelsPerGroup
        var packed = [Float](repeating: 0, count: groups * panels * depth * panelWidth)
        for group in 0..<groups {
            for panel in 0..<panels {
                for lane in 0..<min(panelWidth, outputsPerGroup - panel * panelWidth) {
                    let output = group * outputsPerGroup + panel * panelWidth + lane
                    for input in 0..<inputChannelsPerGroup {
                        for ky in 0..<kernelHeight {
                            for kx in 0..<kernelWidth {
                                let row = (ky * kernelWidth + kx) * inputChannelsPerGroup + input
                                packed[((group * panels + panel) * depth + row) * panelWidth + lane] =
                                    weightsOIHW[((output * inputChannelsPerGroup + input) * kernelHeight + ky)
                                        * kernelWidth + kx]
                            }
                        }
                    }
                }
            }
        }
        return packed
    }

    /// Floats of scratch one call needs: the zeros that taps in the padding read.
    package static func scratchCount(for geometry: ConvolutionGeometry) -> Int { geometry.inputChannelsPerGroup }

    /// Computes the output rows `rows` (row `n * outputHeight + y`, within `0..<geometry.outputRows`). Writes only
    /// those rows, so calls on disjoint row ranges may run concurrently, each with its own `scratch`.
    /// - Parameters:
    ///   - packedWeights: from `pack`.
    ///   - residual: added before the clamp, or nil. May alias `output` only if it is the same buffer.
    ///   - output: where output row `outputFirstRow` goes, the rows after it following contiguously: the whole
    ///     output tensor by default, or (for a caller that keeps rows in a ring) the slot of the first row.
    ///     `residual` is always the whole tensor.
    package static func forward(
        geometry: ConvolutionGeometry, input: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, residual: UnsafePointer<Float>?, clamp: Clamp,
        output: UnsafeMutablePointer<Float>, outputFirstRow: Int = 0, rows: Range<Int>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= geometry.outputRows, "rows out of range")
        precondition(outputFirstRow <= rows.lowerBound, "output starts after the first row to compute")
        scratch.update(repeating: 0, count: scratchCount(for: geometry))
        let panels = panelCount(outputChannelsPerGroup: geometry.outputChannelsPerGroup)
        let context = Context(
            geometry: geometry, interiorColumns: WindowSpan.interiorColumns(of: geometry), input: input,
            zeros: scratch, packedWeights: packedWeights, panels: panels, bias: bias, residual: residual,
            lower: SIMD16(repeating: clamp.lower), upper: SIMD16(repeating: clamp.upper), output: output,
            outputFirstPixel: outputFirstRow * geometry.outputWidth)
        let groupWeightBytes = panels * context.depth * panelWidth * MemoryLayout<Float>.size
        if groupWeightBytes > panelOuterThreshold {
            for group in 0..<geometry.groups {
                for panel in 0..<panels {
                    for row in rows { context.convolve(row: row, group: group, panel: panel) }
                }
            }
        } else {
            for row in rows {
                for group in 0..<geometry.groups {
                    for panel in 0..<panels { context.convolve(row: row, group: group, panel: panel) }
                }
            }
        }
    }

    /// The operands of one call, so the tile kernel takes few arguments.
    private struct Context {
        let geometry: ConvolutionGeometry
        /// Output columns whose window lies horizontally inside the input.
        let interiorColumns: Range<Int>
        let input: UnsafePointer<Float>
        /// `inputChannelsPerGroup` zeros.
        let zeros: UnsafePointer<Float>
        let packedWeights: UnsafePointer<Float>
        /// Panels per group.
        let panels: Int
        let bias: UnsafePointer<Float>
        let residual: UnsafePointer<Float>?
        let lower: SIMD16<Float>
        let upper: SIMD16<Float>
        let output: UnsafeMutablePointer<Float>
        /// The output pixel at `output`.
        let outputFirstPixel: Int

        /// Rows of one panel: `kernelHeight * kernelWidth * inputChannelsPerGroup`.
        var depth: Int { geometry.kernelHeight * geometry.kernelWidth * geometry.inputChannelsPerGroup }

        /// Every pixel of output row `row` in the 16 output channels of `panel` in `group`.
        func convolve(row: Int, group: Int, panel: Int) {
            let g = geometry
            let (image, outputY) = row.quotientAndRemainder(dividingBy: g.outputHeight)
            let vertical = WindowSpan(outputY: outputY, of: g)
            let groupInput = input + image * g.inputHeight * g.inputWidth * g.inputChannels
                + group * g.inputChannelsPerGroup
            let weights = packedWeights + (group * panels + panel) * depth * IndirectConvolution.panelWidth
            let channel = group * g.outputChannelsPerGroup + panel * IndirectConvolution.panelWidth
            let lanes = min(IndirectConvolution.panelWidth,
                            g.outputChannelsPerGroup - panel * IndirectConvolution.panelWidth)
            var first = 0
            while first < g.outputWidth {
                let columns = min(IndirectConvolution.tileColumns, g.outputWidth - first)
                tile(groupInput: groupInput, vertical: vertical, weights: weights, firstColumn: first,
                     columns: columns, pixel: row * g.outputWidth + first, channel: channel, lanes: lanes)
                first += IndirectConvolution.tileColumns
            }
        }

        /// Output columns `firstColumn ..< firstColumn + columns` (columns <= 6) of one row, output pixels from
        /// `pixel`, by `lanes` channels from `channel`. A short tile repeats its first column in the missing
        /// columns' registers (computed, never stored) so one loop serves every tile.
        /// - Parameter groupInput: pixel (0, 0) of the image, offset to the group's first channel.
        @inline(__always)
        private func tile(
            groupInput: UnsafePointer<Float>, vertical: WindowSpan, weights: UnsafePointer<Float>, firstColumn: Int,
            columns: Int, pixel: Int, channel: Int, lanes: Int
        ) {
            let g = geometry
            let channels = g.inputChannels
            // With one group an interior tile reads each kernel row as one run of kernelWidth * channels floats;
            // otherwise one run of a group's channels per tap. Kernel rows in the padding are skipped.
            let wholeKernelRows = g.groups == 1 && firstColumn >= interiorColumns.lowerBound
                && firstColumn + columns <= interiorColumns.upperBound
            let runLength = wholeKernelRows ? g.kernelWidth &* channels : g.inputChannelsPerGroup
            let runsPerKernelRow = wholeKernelRows ? 1 : g.kernelWidth
            let runs = vertical.taps.count &* runsPerKernelRow
            // Input columns of the tile's windows; wrapping arithmetic here and below spares overflow checks.
            let step = g.strideWidth
            let x0 = firstColumn &* step &- g.padLeft
            let x1 = x0 &+ (columns > 1 ? step : 0), x2 = x0 &+ (columns > 2 ? 2 &* step : 0)
            let x3 = x0 &+ (columns > 3 ? 3 &* step : 0), x4 = x0 &+ (columns > 4 ? 4 &* step : 0)
            let x5 = x0 &+ (columns > 5 ? 5 &* step : 0)
            var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
            var c3 = SIMD16<Float>(), c4 = SIMD16<Float>(), c5 = SIMD16<Float>()
            if runs > 0 {
                let rowSize = g.inputWidth &* channels
                var inputRow = groupInput + (vertical.origin &+ vertical.taps.lowerBound) &* rowSize
                // The weights of the runs follow each other, from the first kernel row inside the input.
                var w = UnsafeRawPointer(weights) + vertical.taps.lowerBound &* g.kernelWidth
                    &* g.inputChannelsPerGroup &* IndirectConvolution.panelWidth &* MemoryLayout<Float>.size
                var a0 = tap(inputRow, column: x0), a1 = tap(inputRow, column: x1), a2 = tap(inputRow, column: x2)
                var a3 = tap(inputRow, column: x3), a4 = tap(inputRow, column: x4), a5 = tap(inputRow, column: x5)
                var run = 1, kx = 0, index = 0
                // One loop over every run, re-aiming the pointers where a run ends: loops nested per kernel row and
                // tap made the compiler move and spill the 12 accumulators around the inner loop (10% of the
                // stem's time).
                while true {
                    let wv = w.loadUnaligned(as: SIMD16<Float>.self)
                    c0.addProduct(SIMD16(repeating: a0[index]), wv)
                    c1.addProduct(SIMD16(repeating: a1[index]), wv)
                    c2.addProduct(SIMD16(repeating: a2[index]), wv)
                    c3.addProduct(SIMD16(repeating: a3[index]), wv)
                    c4.addProduct(SIMD16(repeating: a4[index]), wv)
                    c5.addProduct(SIMD16(repeating: a5[index]), wv)
                    w += 64  // one row of the panel
                    index &+= 1
                    if index == runLength {
                        if run == runs { break }
                        run &+= 1
                        kx &+= 1
                        if kx == runsPerKernelRow {
                            kx = 0
                            inputRow += rowSize
                        }
                        a0 = tap(inputRow, column: x0 &+ kx); a1 = tap(inputRow, column: x1 &+ kx)
                        a2 = tap(inputRow, column: x2 &+ kx); a3 = tap(inputRow, column: x3 &+ kx)
                        a4 = tap(inputRow, column: x4 &+ kx); a5 = tap(inputRow, column: x5 &+ kx)
                        index = 0
                    }
                }
            }
            // The epilogue: bias, residual and clamp, then `lanes` channels of each pixel stored. Written out here
            // rather than in a helper: SwiftPM's multi-threaded release build left such a helper out of line despite
            // `@inline(__always)`, passing each accumulator through memory (+30% on the stem).
            let accumulators = (c0, c1, c2, c3, c4, c5)
            for column in 0..<columns {
                let sum = switch column {
                case 0: accumulators.0
                case 1: accumulators.1
                case 2: accumulators.2
                case 3: accumulators.3
                case 4: accumulators.4
                default: accumulators.5
                }
                let offset = (pixel + column) * g.outputChannels + channel
                let destination = output + (offset - outputFirstPixel * g.outputChannels)
                if lanes == IndirectConvolution.panelWidth {
                    var value = sum + SIMD16<Float>(loadingFrom: bias + channel)
                    if let residual { value += SIMD16<Float>(loadingFrom: residual + offset) }
                    value.clamped(lower: lower, upper: upper).store(to: destination)
                } else {
                    for lane in 0..<lanes {
                        var value = sum[lane] + bias[channel + lane]
                        if let residual { value += residual[offset + lane] }
                        destination[lane] = Swift.min(Swift.max(value, lower[0]), upper[0])
                    }
                }
            }
        }

        /// The input pixel at `column` of the row starting at `inputRow`, or `zeros` if it is in the padding.
        @inline(__always)
        private func tap(_ inputRow: UnsafePointer<Float>, column: Int) -> UnsafePointer<Float> {
            UInt(bitPattern: column) < UInt(bitPattern: geometry.inputWidth)
                ? inputRow + column &* geometry.inputChannels : zeros
        }
    }
}
