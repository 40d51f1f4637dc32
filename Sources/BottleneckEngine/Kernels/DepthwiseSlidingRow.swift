/// One output row of a depthwise convolution whose kernel is 3 or 5 wide (stride 1 or 2), 8 channels at a time,
/// as a sliding window: within a tile of up to 8 neighbouring output pixels, each input pixel of a kernel row is
/// loaded once and multiplied into every output of the tile whose window covers it, with that kernel row's
/// weights held in registers.
///
/// `DepthwiseConvolution`'s general tiles load every input once per tap instead (4 outputs x 5 taps = 20 loads
/// where this kernel needs 8), and test every tap of a border tile against the padding; here a column in the
/// padding is skipped as a whole, and only tiles that reach the padding test at all. Each tile runs over every
/// channel block with its column offsets set up once, which matters as much as the loads: set up per block,
/// that work cost about as many cycles as a 3x3 tile's 72 multiply-adds. Kernel alone, one thread, GFLOP/s
/// before -> now (3x3 before: the general tiles; 5x5 before: this kernel set up per block): 3x3 stride 1
/// 112x112x32 39 -> 60, 14x14x480 34 -> 59, 7x7x1152 35 -> 69; 3x3 stride 2 112x112x96 31 -> 45; 5x5
/// 14x14x672 67 -> 84, 7x7x1152 78 -> 97.
///
/// Layouts as in `DepthwiseConvolution`: NHWC rows of `inputWidth * channels` floats, weights `[kH, kW, channels]`.
enum DepthwiseSlidingRow {
    typealias Lanes = SIMD8<Float>

    /// Whether `geometry` has the kernel width and a stride this kernel is specialised for.
    static func supports(_ geometry: ConvolutionGeometry) -> Bool {
        (geometry.kernelWidth == 3 || geometry.kernelWidth == 5)
            && (geometry.strideWidth == 1 || geometry.strideWidth == 2)
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
        switch (geometry.kernelWidth, geometry.strideWidth) {
        case (3, 1): return row.convolve(Count3.self, Count1.self)
        case (3, _): return row.convolve(Count3.self, Count2.self)
        case (_, 1): return row.convolve(Count5.self, Count1.self)
        default: return row.convolve(Count5.self, Count2.self)
        }
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

        /// The row in as few tiles of at most 8 pixels as possible, with the pixels spread evenly (14 = 7 + 7
        /// rather than 8 + 6), each tile over every whole block of 8 channels.
        func convolve<Width: StaticCount, Stride: StaticCount>(_: Width.Type, _: Stride.Type) -> Int {
            let width = geometry.outputWidth
            let tileCount = (width + 7) / 8
            let (pixelsPerTile, longerTiles) = width.quotientAndRemainder(dividingBy: tileCount)
            var x = 0
            for index in 0..<tileCount {
                let pixels = pixelsPerTile + (index < longerTiles ? 1 : 0)
                let origin = x &* Stride.value &- geometry.padLeft
                let columns = (pixels &- 1) &* Stride.value &+ Width.value
                if origin >= 0 && origin &+ columns <= geometry.inputWidth {
                    tile(pixels, Width.self, Stride.self, Inside.self, firstX: x)
                } else {
                    tile(pixels, Width.self, Stride.self, CrossesPadding.self, firstX: x)
                }
                x += pixels
            }
            return geometry.inputChannels - geometry.inputChannels % Lanes.scalarCount
        }

        /// A tile of `pixels` (1...8) pixels, on the specialisation for that count.
        @inline(__always)
        private func tile<Width: StaticCount, Stride: StaticCount, Columns: ColumnRange>(
            _ pixels: Int, _: Width.Type, _: Stride.Type, _: Columns.Type, firstX: Int
        ) {
            switch pixels {
            case 8: tile(Count8.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            case 7: tile(Count7.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            case 6: tile(Count6.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            case 5: tile(Count5.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            case 4: tile(Count4.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            case 3: tile(Count3.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            case 2: tile(Count2.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            default: tile(Count1.self, Width.self, Stride.self, Columns.self, firstX: firstX)
            }
        }

        /// Output pixels `firstX ..< firstX + Pixels.value`, every whole block of 8 channels. Every count is a
        /// type, so the column steps below unroll into straight-line multiply-adds on named registers; the
        /// column pointer steps one pixel at a time, so no per-column offset needs a register; index arithmetic
        /// wraps (values are bounded by the tensor sizes) so no overflow check splits the code.
        private func tile<Pixels: StaticCount, Width: StaticCount, Stride: StaticCount, Columns: ColumnRange>(
            _: Pixels.Type, _: Width.Type, _: Stride.Type, _: Columns.Type, firstX: Int
        ) {
            let channels = geometry.inputChannels
            let inputWidth = geometry.inputWidth
            let columns = (Pixels.value &- 1) &* Stride.value &+ Width.value
            let origin = firstX &* Stride.value &- geometry.padLeft
            let step = channels &* 4
            let output = outputRow + firstX &* channels
            var channel = 0
            while channel &+ Lanes.scalarCount <= channels {
                var sums = TileSums(bias.map { Lanes(loadingFrom: $0 + channel) } ?? Lanes())
                var ky = taps.lowerBound
                while ky < taps.upperBound {
                    var kernelRow = KernelRow()
                    let rowWeights = weights + (ky &* Width.value &* channels &+ channel)
                    for kx in 0..<Width.value { kernelRow[kx] = Lanes(loadingFrom: rowWeights + kx &* channels) }
                    // Only dereferenced at columns inside the input.
                    var source = UnsafeRawPointer(inputRows[ky]) + (origin &* channels &+ channel) &* 4
                    /// Input column `origin + j` into every output whose window covers it; nothing in the padding.
                    @inline(__always) func column(_ j: Int) {
                        guard j < columns else { return }
                        if !Columns.mayCrossPadding || UInt(bitPattern: origin &+ j) < UInt(bitPattern: inputWidth) {
                            let value = source.loadUnaligned(as: Lanes.self)
                            for pixel in 0..<Pixels.value {
                                let kx = j &- Stride.value &* pixel
                                if kx >= 0 && kx < Width.value { sums.add(pixel, value, kernelRow[kx]) }
                            }
                        }
                        source += step
                    }
                    // The most columns a tile reads: 7 x 2 + 5 (8 pixels, stride 2, 5 wide).
                    column(0); column(1); column(2); column(3); column(4); column(5); column(6); column(7)
                    column(8); column(9); column(10); column(11); column(12); column(13); column(14); column(15)
                    column(16); column(17); column(18)
                    ky &+= 1
                }
                for pixel in 0..<Pixels.value {
                    sums[pixel].clamped(lower: lower, upper: upper).store(to: output + (pixel &* channels &+ channel))
                }
                channel &+= Lanes.scalarCount
            }
        }
    }

    /// Whether a tile's input columns may lie in the padding, as a type so each case compiles on its own.
    private protocol ColumnRange { static var mayCrossPadding: Bool { get } }
    private enum Inside: ColumnRange { static var mayCrossPadding: Bool { false } }
    private enum CrossesPadding: ColumnRange { static var mayCrossPadding: Bool { true } }

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
