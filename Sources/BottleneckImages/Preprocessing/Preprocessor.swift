/// Turns decoded images into model input: resize (Pillow's antialiased bilinear, bit for bit), center crop and
/// per-channel normalisation, written as NHWC floats.
///
/// Only the crop is ever computed. Usually the horizontal pass produces the crop's columns for just the source
/// rows the vertical pass needs, four rows at a time into a small ring buffer that stays in L1, and the vertical
/// pass writes normalised floats straight into the caller's buffer; for images whose height shrinks by more than
/// twice as many pixels as their width (more than twice as tall as wide) the passes run the other way round, as
/// Pillow 13 does. Both passes use Pillow's fixed-point arithmetic (22-bit weights, round half up, clip to
/// 0...255 after each pass), so the result equals Pillow's `resize(..., Image.BILINEAR)` + `crop` exactly; the
/// normalisation gives the reference's float32 `(float32(v) - mean) / std` exactly.
///
/// Weight tables are cached per (image size, spec) and shared by copies of a preprocessor; `prepare` is safe to
/// call from several threads at once and allocates nothing per pixel.
public struct Preprocessor: Sendable {
    public let spec: PreprocessingSpec
    private let cache: ResampleAxisCache
    private let normalisation: Normalisation

    /// - Parameter spec: a validated spec (every `PreprocessingSpec` initializer validates).
    public init(spec: PreprocessingSpec = .efficientNetLite0) {
        self.spec = spec
        cache = ResampleAxisCache()
        // Resampling works in RGB; for BGR the values are normalised in RGB order and swapped afterwards.
        normalisation = spec.channelOrder == "BGR"
            ? Normalisation(mean: spec.mean.reversed(), std: spec.std.reversed())
            : Normalisation(mean: spec.mean, std: spec.std)
    }

    /// Side of the square output.
    public var inputSize: Int { spec.inputSize }

    /// Floats written per image: `inputSize * inputSize * 3`.
    public var valuesPerImage: Int { spec.inputSize * spec.inputSize * 3 }

    /// The engine's logical input shape for a batch, `[batch, 3, inputSize, inputSize]` (pass the values with
    /// `layout: .nhwc`).
    public func modelInputShape(batch: Int = 1) -> [Int] { [batch, 3, spec.inputSize, spec.inputSize] }

    /// Where the crop of an image of this size comes from.
    public func geometry(width: Int, height: Int) -> PreprocessingGeometry {
        PreprocessingGeometry(width: width, height: height, spec: spec)
    }

    /// Writes the model input for `image`: `[inputSize, inputSize, 3]` floats (NHWC, channels in the spec's
    /// order), each `(v - mean[c]) / std[c]`.
    ///
    /// - Parameter output: room for `valuesPerImage` floats.
    public func prepare(_ image: RGBImage, into output: UnsafeMutablePointer<Float>) {
        let geometry = geometry(width: image.width, height: image.height)
        let horizontal = cache.axis(inputSize: image.width, outputSize: geometry.resizedWidth,
                                    windowStart: geometry.cropX, windowCount: geometry.cropSize)
        let vertical = cache.axis(inputSize: image.height, outputSize: geometry.resizedHeight,
                                  windowStart: geometry.cropY, windowCount: geometry.cropSize)
        image.pixels.withUnsafeBufferPointer { pixels in
            PillowResampler.resample(pixels.baseAddress!, width: image.width, height: image.height,
                                     horizontal: horizontal, vertical: vertical, normalisation: normalisation,
                                     into: output)
        }
        if spec.channelOrder == "BGR" {
            for pixel in 0..<(spec.inputSize * spec.inputSize) {
                output.advanced(by: pixel * 3).swapAt(0, 2)
            }
        }
    }

    /// The model input for `image` as a new array; see `prepare(_:into:)`.
    public func prepare(_ image: RGBImage) -> [Float] {
        [Float](unsafeUninitializedCapacity: valuesPerImage) { buffer, count in
            prepare(image, into: buffer.baseAddress!)
            count = valuesPerImage
        }
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always)
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let value = self[i]
        self[i] = self[j]
        self[j] = value
    }
}

/// `(v - mean[c]) / std[c]` for interleaved 3-channel rows processed 16 values at a time: a chunk starting at
/// value `16 * q` has lane `j` in channel `(q + j) % 3`, so three patterns cover every chunk.
///
/// When every std is a power of two (128 for EfficientNet-Lite), `1 / std` is exact and multiplying by it gives
/// the same floats as dividing, several times faster; otherwise the division is kept, so results always equal
/// the reference's float32 `(v - mean) / std`.
struct Normalisation: Sendable {
    let mean: [Float]
    let std: [Float]
    let meanPatterns: [SIMD16<Float>]
    /// `std` patterns, or `1 / std` patterns when `multiplies`.
    let divisorPatterns: [SIMD16<Float>]
    let multiplies: Bool

    init(mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3)
        self.mean = mean
        self.std = std
        multiplies = std.allSatisfy { $0.isNormal && $0.significandBitPattern == 0 && (1 / $0).isNormal }
        meanPatterns = (0..<3).map { q in SIMD16<Float>((0..<16).map { mean[(q + $0) % 3] }) }
        let divisors: [Float] = multiplies ? std.map { 1 / $0 } : std
        divisorPatterns = (0..<3).map { q in SIMD16<Float>((0..<16).map { divisors[(q + $0) % 3] }) }
    }

    /// Identity normalisation: outputs are the 8-bit levels as floats.
    static let levels = Normalisation(mean: [0, 0, 0], std: [1, 1, 1])
}

extension RGBImage {
    /// The image resized to `width` x `height` with Pillow's `Image.BILINEAR` (antialiased when shrinking),
    /// bit for bit; with `window`, only that part of the resized image (`window.width` x `window.height`).
    public func resizedBilinear(width: Int, height: Int, window: (x: Int, y: Int, width: Int, height: Int)? = nil)
        -> RGBImage
    {
        let window = window ?? (0, 0, width, height)
        precondition(width > 0 && height > 0 && window.x >= 0 && window.y >= 0 && window.width > 0
            && window.height > 0 && window.x + window.width <= width && window.y + window.height <= height,
            "the window \(window) is not inside \(width)x\(height)")
        let horizontal = ResampleAxis(inputSize: self.width, outputSize: width, windowStart: window.x,
                                      windowCount: window.width)
        let vertical = ResampleAxis(inputSize: self.height, outputSize: height, windowStart: window.y,
                                    windowCount: window.height)
        let count = window.width * window.height * 3
        let levels = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            pixels.withUnsafeBufferPointer { source in
                PillowResampler.resample(source.baseAddress!, width: self.width, height: self.height,
                                         horizontal: horizontal, vertical: vertical, normalisation: .levels,
                                         into: buffer.baseAddress!)
            }
            initialized = count
        }
        return RGBImage(width: window.width, height: window.height, pixels: levels.map { UInt8($0) })
    }
}

/// The two fixed-point passes of Pillow's `ImagingResample` (8-bit path), restricted to a window of the output.
enum PillowResampler {
    /// Pillow 13's pass order: vertical first when the height shrinks by more than twice as many pixels as the
    /// width does (earlier Pillows always went horizontal first). The order matters for the 8-bit rounding
    /// between the passes; aspect-preserving resizes take it only for images more than twice as tall as wide.
    static func verticalFirst(inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int) -> Bool {
        let shrink = inputHeight - outputHeight
        return shrink > 0 && shrink > (inputWidth - outputWidth) * 2
    }

    /// Resamples the window `horizontal` x `vertical` of an image resized to `horizontal.outputSize` x
    /// `vertical.outputSize` and writes it normalised, NHWC (`vertical.windowCount` rows of
    /// `horizontal.windowCount * 3` floats).
    static func resample(
        _ source: UnsafePointer<UInt8>, width: Int, height: Int, horizontal: ResampleAxis, vertical: ResampleAxis,
        normalisation: Normalisation, into output: UnsafeMutablePointer<Float>
    ) {
        precondition(horizontal.inputSize == width && vertical.inputSize == height, "tables for another size")
        horizontal.starts.withUnsafeBufferPointer { hStarts in
        horizontal.weights.withUnsafeBufferPointer { hWeights in
        vertical.starts.withUnsafeBufferPointer { vStarts in
        vertical.weights.withUnsafeBufferPointer { vWeights in
        normalisation.meanPatterns.withUnsafeBufferPointer { means in
        normalisation.divisorPatterns.withUnsafeBufferPointer { divisors in
            let h = Table(starts: hStarts.baseAddress!, weights: hWeights.baseAddress!, taps: horizontal.taps,
                          count: horizontal.windowCount)
            let v = Table(starts: vStarts.baseAddress!, weights: vWeights.baseAddress!, taps: vertical.taps,
                          count: vertical.windowCount)
            let n = Patterns(means: means.baseAddress!, divisors: divisors.baseAddress!,
                             multiplies: normalisation.multiplies)
            if verticalFirst(inputWidth: width, inputHeight: height, outputWidth: horizontal.outputSize,
                             outputHeight: vertical.outputSize) {
                resampleVerticalFirst(source, width: width, height: height, h: h, v: v, n: n, into: output)
            } else {
                resampleHorizontalFirst(source, width: width, height: height, h: h, v: v, n: n, into: output)
            }
        }
        }
        }
        }
        }
        }
    }

    /// A weight table as raw pointers.
    struct Table {
        let starts: UnsafePointer<Int>
        let weights: UnsafePointer<Int32>
        let taps: Int
        let count: Int
    }

    /// The normalisation patterns as raw pointers.
    struct Patterns {
        let means: UnsafePointer<SIMD16<Float>>
        let divisors: UnsafePointer<SIMD16<Float>>
        let multiplies: Bool

        /// Chunk `pattern` (0, 1, 2) of levels, normalised.
        @inline(__always)
        func apply(_ level: SIMD16<Int32>, _ pattern: Int) -> SIMD16<Float> {
            let centered = SIMD16<Float>(level) - means[pattern]
            return multiplies ? centered * divisors[pattern] : centered / divisors[pattern]
        }
    }

    /// Horizontal pass into a ring of rows (only the source rows the window needs, each once, four at a time),
    /// and the vertical pass fused with normalisation, straight into the output.
    private static func resampleHorizontalFirst(
        _ source: UnsafePointer<UInt8>, width: Int, height: Int, h: Table, v: Table, n: Patterns,
        into output: UnsafeMutablePointer<Float>
    ) {
        let rowValues = h.count * 3
        let rowBytes = width * 3
        // Ring rows: whole 16-byte chunks plus one spare byte for the horizontal pass's 4-byte stores.
        let stride = (rowValues + 16) & ~15
        // The rows one output row reads plus up to 3 more from a batch of 4; windows only move down.
        let ringRows = v.taps + 3
        let endRow = v.starts[v.count - 1] + v.taps
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stride * ringRows) { ring in
        withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>.self, capacity: v.taps) { rows in
            let ring = ring.baseAddress!, rows = rows.baseAddress!
            func line(_ row: Int) -> UnsafeMutablePointer<UInt8> { ring + (row % ringRows) * stride }
            var computed = v.starts[0]
            for y in 0..<v.count {
                let first = v.starts[y]
                // The ring holds the last `ringRows` computed rows; a batch of 4 may run up to 3 rows ahead.
                assert(first >= computed - ringRows, "resampling windows must move down")
                computed = max(computed, first)
                while computed < first + v.taps {
                    if computed + 4 <= endRow && computed + 4 < height {
                        // Four rows, none of them the image's last (whose 4-byte loads could overrun).
                        let row = source + computed * rowBytes
                        horizontalPass4((row, row + rowBytes, row + 2 * rowBytes, row + 3 * rowBytes), table: h,
                                        into: (line(computed), line(computed + 1), line(computed + 2),
                                               line(computed + 3)))
                        computed += 4
                    } else {
                        horizontalPass(source + computed * rowBytes, columnOffset: 0, safeTail: computed < height - 1,
                                       width: width, table: h, into: line(computed))
                        computed += 1
                    }
                }
                for tap in 0..<v.taps { rows[tap] = UnsafePointer(line(first + tap)) }
                let weights = v.weights + y * v.taps
                let out = output + y * rowValues
                var offset = 0
                var pattern = 0
                while offset < rowValues {
                    // Ring rows are padded to whole chunks: reading past `rowValues` stays inside them.
                    let level = verticalChunk(rows, weights, taps: v.taps, offset: offset)
                    let value = n.apply(level, pattern)
                    if offset + 16 <= rowValues {
                        UnsafeMutableRawPointer(out + offset).storeBytes(of: value, as: SIMD16<Float>.self)
                    } else {
                        for lane in 0..<(rowValues - offset) { out[offset + lane] = value[lane] }
                    }
                    offset += 16
                    pattern = pattern == 2 ? 0 : pattern + 1
                }
            }
        }
        }
    }

    /// Vertical pass over just the source columns the window needs, then the horizontal pass and the
    /// normalisation, one output row at a time.
    private static func resampleVerticalFirst(
        _ source: UnsafePointer<UInt8>, width: Int, height: Int, h: Table, v: Table, n: Patterns,
        into output: UnsafeMutablePointer<Float>
    ) {
        var firstColumn = width, endColumn = 0
        for x in 0..<h.count {
            firstColumn = min(firstColumn, h.starts[x])
            endColumn = max(endColumn, h.starts[x] + h.taps)
        }
        let columnValues = (endColumn - firstColumn) * 3
        let rowValues = h.count * 3
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: columnValues + 16) { columns in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rowValues + 16) { line in
        withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>.self, capacity: v.taps) { rows in
            let columns = columns.baseAddress!, line = line.baseAddress!, rows = rows.baseAddress!
            for y in 0..<v.count {
                for tap in 0..<v.taps {
                    rows[tap] = source + (v.starts[y] + tap) * width * 3 + firstColumn * 3
                }
                let weights = v.weights + y * v.taps
                var offset = 0
                // Whole chunks only: the source rows have no padding.
                while offset + 16 <= columnValues {
                    let level = verticalChunk(rows, weights, taps: v.taps, offset: offset)
                    UnsafeMutableRawPointer(columns + offset).storeBytes(
                        of: SIMD16<UInt8>(truncatingIfNeeded: level), as: SIMD16<UInt8>.self)
                    offset += 16
                }
                while offset < columnValues {
                    var sum = ResampleAxis.rounding
                    for tap in 0..<v.taps { sum &+= Int32(rows[tap][offset]) &* weights[tap] }
                    columns[offset] = UInt8(clamping: sum >> ResampleAxis.precisionBits)
                    offset += 1
                }
                horizontalPass(UnsafePointer(columns), columnOffset: firstColumn, safeTail: true, width: width,
                               table: h, into: line)
                normalise(UnsafePointer(line), count: rowValues, n: n, into: output + y * rowValues)
            }
        }
        }
        }
    }

    /// One row -> the window's columns, 8-bit, rounded and clipped like Pillow. `row` holds the source pixels
    /// from column `columnOffset` on. With `safeTail`, a byte after the row's last pixel may be read (4-byte
    /// loads); `line` needs one byte more than the window's values.
    @inline(__always)
    static func horizontalPass(
        _ row: UnsafePointer<UInt8>, columnOffset: Int, safeTail: Bool, width: Int, table h: Table,
        into line: UnsafeMutablePointer<UInt8>
    ) {
        let raw = UnsafeRawPointer(row)
        let out = UnsafeMutableRawPointer(line)
        let taps = h.taps
        for x in 0..<h.count {
            let start = h.starts[x] - columnOffset
            let k = h.weights + x * taps
            var sum: SIMD4<Int32>
            if !safeTail && h.starts[x] + taps == width {
                // The 4-byte load of the image's last pixel would read past the image.
                var r = ResampleAxis.rounding, g = r, b = r
                for t in 0..<taps {
                    let p = row + (start + t) * 3
                    r &+= Int32(p[0]) &* k[t]
                    g &+= Int32(p[1]) &* k[t]
                    b &+= Int32(p[2]) &* k[t]
                }
                sum = SIMD4(r, g, b, 0)
            } else {
                sum = SIMD4(repeating: ResampleAxis.rounding)
                for t in 0..<taps {
                    let pixel = raw.loadUnaligned(fromByteOffset: (start + t) * 3, as: SIMD4<UInt8>.self)
                    sum &+= SIMD4<Int32>(truncatingIfNeeded: pixel) &* SIMD4(repeating: k[t])
                }
            }
            let level = (sum &>> ResampleAxis.precisionBits).clamped(lowerBound: .zero,
                                                                     upperBound: SIMD4(repeating: 255))
            // Writes one byte too many (the next pixel's, or the spare byte), overwritten next.
            out.storeBytes(of: SIMD4<UInt8>(truncatingIfNeeded: level), toByteOffset: x * 3, as: SIMD4<UInt8>.self)
        }
    }

    /// `horizontalPass` for four rows at once (each weight multiplies four pixels); every row must have a byte
    /// after its last pixel.
    @inline(__always)
    static func horizontalPass4(
        _ rows: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
        table h: Table,
        into lines: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>,
                     UnsafeMutablePointer<UInt8>)
    ) {
        let r0 = UnsafeRawPointer(rows.0), r1 = UnsafeRawPointer(rows.1)
        let r2 = UnsafeRawPointer(rows.2), r3 = UnsafeRawPointer(rows.3)
        let taps = h.taps
        for x in 0..<h.count {
            let start = h.starts[x] * 3
            let k = h.weights + x * taps
            var sum = SIMD16<Int32>(repeating: ResampleAxis.rounding)
            for t in 0..<taps {
                let offset = start + t * 3
                let bytes = SIMD16<UInt8>(
                    lowHalf: SIMD8(lowHalf: r0.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt8>.self),
                                   highHalf: r1.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt8>.self)),
                    highHalf: SIMD8(lowHalf: r2.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt8>.self),
                                    highHalf: r3.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt8>.self)))
                sum &+= SIMD16<Int32>(truncatingIfNeeded: bytes) &* SIMD16(repeating: k[t])
            }
            let level = SIMD16<UInt8>(truncatingIfNeeded: (sum &>> ResampleAxis.precisionBits)
                .clamped(lowerBound: .zero, upperBound: SIMD16(repeating: 255)))
            // Each store writes one byte too many, overwritten by the next pixel (or the spare byte).
            UnsafeMutableRawPointer(lines.0).storeBytes(of: level.lowHalf.lowHalf, toByteOffset: x * 3,
                                                         as: SIMD4<UInt8>.self)
            UnsafeMutableRawPointer(lines.1).storeBytes(of: level.lowHalf.highHalf, toByteOffset: x * 3,
                                                         as: SIMD4<UInt8>.self)
            UnsafeMutableRawPointer(lines.2).storeBytes(of: level.highHalf.lowHalf, toByteOffset: x * 3,
                                                         as: SIMD4<UInt8>.self)
            UnsafeMutableRawPointer(lines.3).storeBytes(of: level.highHalf.highHalf, toByteOffset: x * 3,
                                                         as: SIMD4<UInt8>.self)
        }
    }

    /// 16 values of the vertical pass: weighted sum of `taps` rows at `offset`, rounded and clipped to 0...255.
    @inline(__always)
    static func verticalChunk(
        _ rows: UnsafePointer<UnsafePointer<UInt8>>, _ weights: UnsafePointer<Int32>, taps: Int, offset: Int
    ) -> SIMD16<Int32> {
        var sum = SIMD16<Int32>(repeating: ResampleAxis.rounding)
        for t in 0..<taps {
            let bytes = UnsafeRawPointer(rows[t]).loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
            sum &+= SIMD16<Int32>(truncatingIfNeeded: bytes) &* SIMD16(repeating: weights[t])
        }
        return (sum &>> ResampleAxis.precisionBits).clamped(lowerBound: .zero, upperBound: SIMD16(repeating: 255))
    }

    /// 8-bit levels -> `(v - mean[c]) / std[c]`. Reads whole 16-byte chunks (`levels` must be padded).
    @inline(__always)
    static func normalise(_ levels: UnsafePointer<UInt8>, count: Int, n: Patterns,
                          into output: UnsafeMutablePointer<Float>)
    {
        var offset = 0
        var pattern = 0
        while offset < count {
            let bytes = UnsafeRawPointer(levels).loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
            let value = n.apply(SIMD16<Int32>(truncatingIfNeeded: bytes), pattern)
            if offset + 16 <= count {
                UnsafeMutableRawPointer(output + offset).storeBytes(of: value, as: SIMD16<Float>.self)
            } else {
                for lane in 0..<(count - offset) { output[offset + lane] = value[lane] }
            }
            offset += 16
            pattern = pattern == 2 ? 0 : pattern + 1
        }
    }
}
