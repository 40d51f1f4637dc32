/// One output row of a depthwise convolution whose kernel is 5 wide (stride 1 or 2), 8 channels at a time, as a
/// sliding window: within a tile of up to 8 neighbouring output pixels, each input pixel of a kernel row is loaded
/// once and multiplied into every output of the tile whose window covers it, with that kernel row's weights held
/// in registers.
///
/// `DepthwiseConvolution`'s general tiles load every input once per tap instead (4 outputs x 5 taps = 20 loads
/// where this kernel needs 8), and test every tap of a border tile against the padding; here a column in the
/// padding is skipped as a whole. Kernel alone, hot in cache, one thread: 14x14x672 173 -> 95 us, 7x7x1152
/// 67 -> 34 us, 28x28x240 210 -> 149 us. Inside the network the input comes from L2 rather than L1 and the
/// gain shrinks to 10-25% per layer (about 0.18 ms of 9.4 ms per image). 3x3 kernels were measured too and stay
/// on the general tiles: stride 2 lost everywhere, stride 1 won alone but lost inside the network at 112x112x32
/// and 14x14x480.
///
/// Layouts as in `DepthwiseConvolution`: NHWC rows of `inputWidth * channels` floats, weights `[kH, kW, channels]`.
enum DepthwiseSlidingRow {
    typealias Lanes = SIMD8<Float>

    /// Whether `geometry` has the kernel width and a stride this kernel is specialised for.
    static func supports(_ geometry: ConvolutionGeometry) -> Bool {
        geometry.kernelWidth == 5 && (geometry.strideWidth == 1 || geometry.strideWidth == 2)
    }

    /// Computes the whole blocks of 8 channels of one output row and returns the first channel it left for the
    /// caller (`inputChannels` rounded down to a multiple of 8).
    /// - Parameters:
    ///   - taps: the kernel rows that land inside the input.
    ///   - inputRows: pixel 0 of the input row under kernel row `ky`, for `ky` in `taps`.
    ///   - outputRow: pixel 0 of the output row.
    static func convolve(
        geometry: ConvolutionGeometry, taps: Range<Int>, inputRows: UnsafePointer<UnsafePointer<Float>>,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, clamp: Clamp,
        outputRow: UnsafeMutablePointer<Float>
    ) -> Int {
        precondition(supports(geometry), "no sliding-window kernel for \(geometry)")
        let row = Row(geometry: geometry, taps: taps, inputRows: inputRows, weights: weights, bias: bias,
                      lower: Lanes(repeating: clamp.lower), upper: Lanes(repeating: clamp.upper),
                      outputRow: outputRow)
        return geometry.strideWidth == 1 ? row.convolve(Count5.self, Count1.self)
            : row.convolve(Count5.self, Count2.self)
    }

    /// The operands of one output row.
    private struct Row {
        let geometry: ConvolutionGeometry
        let taps: Range<Int>
        let inputRows: UnsafePointer<UnsafePointer<Float>>
        let weights: UnsafePointer<Float>
        let bias: UnsafePointer<Float>?
        let lower: Lanes
        let upper: Lanes
        let outputRow: UnsafeMutablePointer<Float>

        /// Blocks of 8 channels, each over the row in as few tiles of at most 8 pixels as possible, with the
        /// pixels spread evenly (14 = 7 + 7 rather than 8 + 6).
        func convolve<Width: StaticCount, Stride: StaticCount>(_: Width.Type, _: Stride.Type) -> Int {
            let width = geometry.outputWidth
            let tileCount = (width + 7) / 8
            let (pixelsPerTile, longerTiles) = width.quotientAndRemainder(dividingBy: tileCount)
            var channel = 0
            while channel + Lanes.scalarCount <= geometry.inputChannels {
                let initial = bias.map { Lanes(loadingFrom: $0 + channel) } ?? Lanes()
                var x = 0
                for index in 0..<tileCount {
                    let pixels = pixelsPerTile + (index < longerTiles ? 1 : 0)
                    switch pixels {
                    case 8: tile(Count8.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    case 7: tile(Count7.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    case 6: tile(Count6.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    case 5: tile(Count5.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    case 4: tile(Count4.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    case 3: tile(Count3.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    case 2: tile(Count2.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    default: tile(Count1.self, Width.self, Stride.self, firstX: x, channel: channel, initial: initial)
                    }
                    x += pixels
                }
                channel += Lanes.scalarCount
            }
            return channel
        }

        /// Output pixels `firstX ..< firstX + Pixels.value` in channels `channel ..< channel + 8`. Every count is a
        /// type, so the column calls below unroll into straight-line multiply-adds on named registers; index
        /// arithmetic wraps (values are bounded by the tensor sizes) so no overflow check splits the code.
        @inline(__always)
        private func tile<Pixels: StaticCount, Width: StaticCount, Stride: StaticCount>(
            _: Pixels.Type, _: Width.Type, _: Stride.Type, firstX: Int, channel: Int, initial: Lanes
        ) {
            let channels = geometry.inputChannels
            let inputWidth = geometry.inputWidth
            let columns = (Pixels.value &- 1) &* Stride.value &+ Width.value
            let origin = firstX &* Stride.value &- geometry.padLeft
            var sums = TileSums(initial)
            var ky = taps.lowerBound
            while ky < taps.upperBound {
                var kernelRow = KernelRow()
                let rowWeights = weights + (ky &* Width.value &* channels &+ channel)
                for kx in 0..<Width.value { kernelRow[kx] = Lanes(loadingFrom: rowWeights + kx &* channels) }
                let input = inputRows[ky] + channel
                /// Input column `origin + j` into every output whose window covers it; nothing in the padding.
                @inline(__always) func column(_ j: Int) {
                    let x = origin &+ j
                    guard j < columns, UInt(bitPattern: x) < UInt(bitPattern: inputWidth) else { return }
                    let value = Lanes(loadingFrom: input + x &* channels)
                    for pixel in 0..<Pixels.value {
                        let kx = j &- Stride.value &* pixel
                        if kx >= 0 && kx < Width.value { sums.add(pixel, value, kernelRow[kx]) }
                    }
                }
                // The most columns a tile reads: 7 x 2 + 5 (8 pixels, stride 2, 5 wide).
                column(0); column(1); column(2); column(3); column(4); column(5); column(6); column(7)
                column(8); column(9); column(10); column(11); column(12); column(13); column(14); column(15)
                column(16); column(17); column(18)
                ky &+= 1
            }
            let output = outputRow + (firstX &* channels &+ channel)
            for pixel in 0..<Pixels.value {
                sums[pixel].clamped(lower: lower, upper: upper).store(to: output + pixel &* channels)
            }
        }
    }

    /// The accumulators of a tile: one register per output pixel. Indices are constants after unrolling, so the
    /// switches fold away.
    private struct TileSums {
        var s0, s1, s2, s3, s4, s5, s6, s7: Lanes

        @inline(__always) init(_ initial: Lanes) {
            (s0, s1, s2, s3, s4, s5, s6, s7) = (initial, initial, initial, initial, initial, initial, initial, initial)
        }

        @inline(__always) mutating func add(_ pixel: Int, _ value: Lanes, _ weight: Lanes) {
            switch pixel {
            case 0: s0.addProduct(value, weight)
            case 1: s1.addProduct(value, weight)
            case 2: s2.addProduct(value, weight)
            case 3: s3.addProduct(value, weight)
            case 4: s4.addProduct(value, weight)
            case 5: s5.addProduct(value, weight)
            case 6: s6.addProduct(value, weight)
            default: s7.addProduct(value, weight)
            }
        }

        @inline(__always) subscript(pixel: Int) -> Lanes {
            switch pixel {
            case 0: s0
            case 1: s1
            case 2: s2
            case 3: s3
            case 4: s4
            case 5: s5
            case 6: s6
            default: s7
            }
        }
    }

    /// The weights of one kernel row, up to 5 taps, in registers.
    private struct KernelRow {
        var w0 = Lanes(), w1 = Lanes(), w2 = Lanes(), w3 = Lanes(), w4 = Lanes()

        @inline(__always) subscript(kx: Int) -> Lanes {
            get {
                switch kx {
                case 0: w0
                case 1: w1
                case 2: w2
                case 3: w3
                default: w4
                }
            }
            set {
                switch kx {
                case 0: w0 = newValue
                case 1: w1 = newValue
                case 2: w2 = newValue
                case 3: w3 = newValue
                default: w4 = newValue
                }
            }
        }
    }
}
