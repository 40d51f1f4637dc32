/// 1x1 convolution over NHWC pixels as a register-blocked matrix product with the whole epilogue fused:
/// `output[p, n] = clamp(sum_k input[p, k] * weights[k, n] + bias[n] + residual[p, n])`.
///
/// Weights are packed once into panels of 16 output channels (`[panel][inputChannels][16]`, zero padded), so
/// the inner loop reads them contiguously; a tile of 6 pixels x 16 channels is accumulated in registers
/// (12 AVX2 registers; a last panel of 8 channels goes with the one before into tiles of 4 pixels x 24 channels)
/// and leaves them only after bias, residual and clamp are applied. Compared with sgemm plus a separate epilogue
/// pass this saves packing the weights on every call and a round trip of the output through the cache.
package enum PointwiseConvolution {
    /// Output channels per packed panel: one `SIMD16<Float>`.
    package static let panelWidth = 16
    /// Pixels per register tile.
    static let tileRows = 6
    /// Pixels per tile of a 24-channel panel pair (4 x 3 AVX2 registers).
    static let pairedTileRows = 4
    /// Above this many bytes of packed weights, panels become the outer loop so each panel stays in L2 while
    /// every tile of pixels passes over it.
    static let panelOuterThreshold = 512 << 10
    /// Largest panel (in bytes) whose successor is prefetched in panel-outer order.
    static let prefetchedPanelLimit = 32 << 10

    /// Panels of 16 output channels (the last one zero padded).
    package static func panelCount(outputChannels: Int) -> Int { (outputChannels + panelWidth - 1) / panelWidth }

    /// Packs `weights` `[inputChannels, outputChannels]` (row-major) into `[panel][inputChannels][16]`.
    package static func pack(weights: UnsafePointer<Float>, inputChannels: Int, outputChannels: Int) -> [Float] {
        let panels = panelCount(outputChannels: outputChannels)
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

    /// Computes the output pixels `pixels` (rows of `[pixelCount, outputChannels]`) in the output channels of
    /// `panels` (panel `p` is channels `16p ..< 16p + 16`; nil for all); calls on disjoint ranges of pixels or
    /// panels may run concurrently.
    /// - Parameters:
    ///   - input: `[pixelCount, inputChannels]`.
    ///   - packedWeights: from `pack(weights:inputChannels:outputChannels:)`.
    ///   - bias: `[outputChannels]`.
    ///   - residual: `[pixelCount, outputChannels]` added before the clamp, or nil. May not alias `output`
    ///     unless it is the same buffer (then each element is read before it is written).
    package static func forward(
        input: UnsafePointer<Float>, inputChannels: Int, packedWeights: UnsafePointer<Float>, outputChannels: Int,
        bias: UnsafePointer<Float>, residual: UnsafePointer<Float>?, clamp: Clamp,
        output: UnsafeMutablePointer<Float>, pixels: Range<Int>, panels: Range<Int>? = nil
    ) {
        let panels = panels ?? 0..<panelCount(outputChannels: outputChannels)
        let context = Context(input: input, inputChannels: inputChannels, packedWeights: packedWeights,
                              outputChannels: outputChannels, bias: bias, residual: residual,
                              lower: SIMD16(repeating: clamp.lower), upper: SIMD16(repeating: clamp.upper),
                              output: output)
        guard !pixels.isEmpty else { return }
        // A last panel of 8 channels (24 or 40 outputs, EfficientNet's early projections) would leave half of
        // its tiles' multiply-adds on padding: it goes with the panel before it into tiles of 4 pixels x 24
        // channels instead. Alone, one thread, GFLOP/s: 96 -> 24 74 -> 109, 144 -> 24 76 -> 111, 144 -> 40
        // 87 -> 110, 240 -> 40 91 -> 112.
        let pairsLastPanels = outputChannels % panelWidth == 8 && panels.count >= 2
            && panels.upperBound == panelCount(outputChannels: outputChannels)
        let singlePanels = pairsLastPanels ? panels.lowerBound..<(panels.upperBound - 2) : panels
        if pairsLastPanels {
            var first = pixels.lowerBound
            while first < pixels.upperBound {
                let rows = min(pairedTileRows, pixels.upperBound - first)
                context.pairedTile(first: first, rows: rows, panel: panels.upperBound - 2)
                first += rows
            }
        }
        // As few tiles as 6-row tiles need, with the pixels spread evenly over them (49 = 4 x 6 + 5 x 5 rather
        // than 8 x 6 + 1): a tile of 4 or more rows still keeps 8 independent accumulator chains busy.
        let tileCount = (pixels.count + tileRows - 1) / tileRows
        let (rowsPerTile, longerTiles) = pixels.count.quotientAndRemainder(dividingBy: tileCount)
        func forEachTile(_ body: (_ first: Int, _ rows: Int) -> Void) {
            var first = pixels.lowerBound
            for index in 0..<tileCount {
                let rows = rowsPerTile + (index < longerTiles ? 1 : 0)
                body(first, rows)
                first += rows
            }
        }
        if singlePanels.count * inputChannels * panelWidth * 4 > panelOuterThreshold {
            // The weights of such a layer come from memory once per call (at batch 1, once per image). Short
            // panels are too brief for the hardware prefetcher to ramp up, so the next one is fetched into L2, a
            // share before each tile of this one. Measured on EfficientNet-Lite0 at batch 1 (profile, one
            // thread): 192 -> 1152 at 7x7 265 -> 218 us, 320 -> 1280 470 -> 417 us; panels of 1152 input
            // channels (72 KB) did not gain and are left to the hardware, and so are layers whose weights fit L2
            // (tile-outer order below), which lost 5% with a whole panel prefetched at once.
            let prefetchesNextPanel = inputChannels * panelWidth * 4 <= prefetchedPanelLimit
            let linesPerTile = (inputChannels + tileCount - 1) / tileCount
            for panel in singlePanels {
                var index = 0
                forEachTile { first, rows in
                    if prefetchesNextPanel, panel + 1 < singlePanels.upperBound {
                        let next = packedWeights + (panel + 1) * inputChannels * panelWidth
                        let lines = (index * linesPerTile)..<((index + 1) * linesPerTile)
                        for line in lines.clamped(to: 0..<inputChannels) {
                            CacheHints.prefetchToL2(next + line * panelWidth)
                        }
                    }
                    context.tile(first: first, rows: rows, panel: panel)
                    index += 1
                }
            }
        } else {
            forEachTile { first, rows in
                for panel in singlePanels { context.tile(first: first, rows: rows, panel: panel) }
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

        /// Output pixels `first ..< first + rows` (1 <= rows <= 6) by the 16 channels of `panel`.
        @inline(__always)
        func tile(first: Int, rows: Int, panel: Int) {
            switch rows {
            case 6: tile(Count6.self, first: first, panel: panel)
            case 5: tile(Count5.self, first: first, panel: panel)
            case 4: tile(Count4.self, first: first, panel: panel)
            case 3: tile(Count3.self, first: first, panel: panel)
            case 2: tile(Count2.self, first: first, panel: panel)
            default: tile(Count1.self, first: first, panel: panel)
            }
        }

        /// The register tile. The height is a type so that each one is specialised into its own loop, free of
        /// tests for the rows it does not have.
        private func tile<Height: StaticCount>(_: Height.Type, first: Int, panel: Int) {
            let rowCount = Height.value
            let weights = packedWeights + panel * inputChannels * PointwiseConvolution.panelWidth
            let k = inputChannels
            let channel = panel * PointwiseConvolution.panelWidth
            let lanes = min(PointwiseConvolution.panelWidth, outputChannels - channel)
            // One pointer per pixel row and wrapping index arithmetic keep the loop free of overflow checks, so
            // the accumulators stay in registers. Rows past `rowCount` alias row 0 and are never accumulated.
            let a0 = input + first * k
            let a1 = a0 + (rowCount > 1 ? k : 0), a2 = a0 + (rowCount > 2 ? 2 * k : 0)
            let a3 = a0 + (rowCount > 3 ? 3 * k : 0), a4 = a0 + (rowCount > 4 ? 4 * k : 0)
            let a5 = a0 + (rowCount > 5 ? 5 * k : 0)
            var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
            var c3 = SIMD16<Float>(), c4 = SIMD16<Float>(), c5 = SIMD16<Float>()
            var w = UnsafeRawPointer(weights)
            var index = 0
            while index < k {
                let wv = w.loadUnaligned(as: SIMD16<Float>.self)
                c0.addProduct(SIMD16(repeating: a0[index]), wv)
                if rowCount > 1 { c1.addProduct(SIMD16(repeating: a1[index]), wv) }
                if rowCount > 2 { c2.addProduct(SIMD16(repeating: a2[index]), wv) }
                if rowCount > 3 { c3.addProduct(SIMD16(repeating: a3[index]), wv) }
                if rowCount > 4 { c4.addProduct(SIMD16(repeating: a4[index]), wv) }
                if rowCount > 5 { c5.addProduct(SIMD16(repeating: a5[index]), wv) }
                w += 64
                index &+= 1
            }
            store(c0, pixel: first, channel: channel, lanes: lanes)
            if rowCount > 1 { store(c1, pixel: first + 1, channel: channel, lanes: lanes) }
            if rowCount > 2 { store(c2, pixel: first + 2, channel: channel, lanes: lanes) }
            if rowCount > 3 { store(c3, pixel: first + 3, channel: channel, lanes: lanes) }
            if rowCount > 4 { store(c4, pixel: first + 4, channel: channel, lanes: lanes) }
            if rowCount > 5 { store(c5, pixel: first + 5, channel: channel, lanes: lanes) }
        }

        /// Output pixels `first ..< first + rows` (1 <= rows <= 4) by 24 channels: the 16 of `panel` and the 8 of
        /// the last panel, after it.
        @inline(__always)
        func pairedTile(first: Int, rows: Int, panel: Int) {
            switch rows {
            case 4: pairedTile(Count4.self, first: first, panel: panel)
            case 3: pairedTile(Count3.self, first: first, panel: panel)
            case 2: pairedTile(Count2.self, first: first, panel: panel)
            default: pairedTile(Count1.self, first: first, panel: panel)
            }
        }

        /// The register tile of a panel pair: per pixel one `SIMD16` and one `SIMD8` accumulator, fed by the same
        /// broadcast input value.
        private func pairedTile<Height: StaticCount>(_: Height.Type, first: Int, panel: Int) {
            let rowCount = Height.value
            let k = inputChannels
            let wide = UnsafeRawPointer(packedWeights + panel * k * PointwiseConvolution.panelWidth)
            let narrow = wide + k * PointwiseConvolution.panelWidth * 4
            let a0 = input + first * k
            let a1 = a0 + (rowCount > 1 ? k : 0), a2 = a0 + (rowCount > 2 ? 2 * k : 0)
            let a3 = a0 + (rowCount > 3 ? 3 * k : 0)
            var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
            var d0 = SIMD8<Float>(), d1 = SIMD8<Float>(), d2 = SIMD8<Float>(), d3 = SIMD8<Float>()
            var offset = 0
            var index = 0
            while index < k {
                let w = wide.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                let v = narrow.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                c0.addProduct(SIMD16(repeating: a0[index]), w)
                d0.addProduct(SIMD8(repeating: a0[index]), v)
                if rowCount > 1 {
                    c1.addProduct(SIMD16(repeating: a1[index]), w)
                    d1.addProduct(SIMD8(repeating: a1[index]), v)
                }
                if rowCount > 2 {
                    c2.addProduct(SIMD16(repeating: a2[index]), w)
                    d2.addProduct(SIMD8(repeating: a2[index]), v)
                }
                if rowCount > 3 {
                    c3.addProduct(SIMD16(repeating: a3[index]), w)
                    d3.addProduct(SIMD8(repeating: a3[index]), v)
                }
                offset &+= 64
                index &+= 1
            }
            let channel = panel * PointwiseConvolution.panelWidth
            let narrowChannel = channel + PointwiseConvolution.panelWidth
            store(c0, pixel: first, channel: channel)
            store(d0, pixel: first, channel: narrowChannel)
            if rowCount > 1 {
                store(c1, pixel: first + 1, channel: channel)
                store(d1, pixel: first + 1, channel: narrowChannel)
            }
            if rowCount > 2 {
                store(c2, pixel: first + 2, channel: channel)
                store(d2, pixel: first + 2, channel: narrowChannel)
            }
            if rowCount > 3 {
                store(c3, pixel: first + 3, channel: channel)
                store(d3, pixel: first + 3, channel: narrowChannel)
            }
        }

        /// Adds bias and residual, clamps and writes all lanes of `sum` to one pixel from `channel` on.
        @inline(__always)
        private func store<V: FloatVector>(_ sum: V, pixel: Int, channel: Int) {
            let offset = pixel * outputChannels + channel
            var value = sum + V(loadingFrom: bias + channel)
            if let residual { value = value + V(loadingFrom: residual + offset) }
            value.clamped(lower: V(repeating: lower[0]), upper: V(repeating: upper[0])).store(to: output + offset)
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
