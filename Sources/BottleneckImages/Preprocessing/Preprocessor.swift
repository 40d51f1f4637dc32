/// Turns decoded images into model input: resize (Pillow's antialiased bilinear, bit for bit), center crop and
/// per-channel normalisation, written as NHWC floats.
///
/// Only the crop is ever computed: the horizontal pass produces the crop's columns for the source rows the
/// vertical pass needs, a few rows at a time in a small ring buffer that stays in L1, and the vertical pass
/// writes normalised floats straight into the caller's buffer. Both passes use Pillow's fixed-point arithmetic
/// (22-bit weights, round half up, clip to 0...255 after each pass), so the result equals Pillow's
/// `resize(..., Image.BILINEAR)` + `crop` exactly; the float normalisation is the reference's
/// `(float32(v) - mean) / std`.
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
        normalisation = Normalisation(mean: spec.mean, std: spec.std)
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
struct Normalisation: Sendable {
    let mean: [Float]
    let std: [Float]
    let meanPatterns: [SIMD16<Float>]
    let stdPatterns: [SIMD16<Float>]

    init(mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3)
        self.mean = mean
        self.std = std
        meanPatterns = (0..<3).map { q in SIMD16<Float>((0..<16).map { mean[(q + $0) % 3] }) }
        stdPatterns = (0..<3).map { q in SIMD16<Float>((0..<16).map { std[(q + $0) % 3] }) }
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

/// The two fixed-point passes.
enum PillowResampler {
    /// Resamples the window `horizontal` x `vertical` of an image resized to `horizontal.outputSize` x
    /// `vertical.outputSize` and writes it normalised, NHWC (`vertical.windowCount` rows of
    /// `horizontal.windowCount * 3` floats).
    static func resample(
        _ source: UnsafePointer<UInt8>, width: Int, height: Int, horizontal: ResampleAxis, vertical: ResampleAxis,
        normalisation: Normalisation, into output: UnsafeMutablePointer<Float>
    ) {
        precondition(horizontal.inputSize == width && vertical.inputSize == height, "tables for another size")
        let rowValues = horizontal.windowCount * 3
        // Ring rows: whole 16-byte chunks plus one spare byte for the horizontal pass's 4-byte stores.
        let stride = (rowValues + 16) & ~15
        let ringRows = vertical.taps
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stride * ringRows) { ring in
            let ring = ring.baseAddress!
            withUnsafeTemporaryAllocation(of: Int.self, capacity: ringRows) { held in
                let held = held.baseAddress!
                held.initialize(repeating: -1, count: ringRows)
                withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>.self, capacity: ringRows) { rows in
                    let rows = rows.baseAddress!
                    horizontal.starts.withUnsafeBufferPointer { hStarts in
                    horizontal.weights.withUnsafeBufferPointer { hWeights in
                    vertical.starts.withUnsafeBufferPointer { vStarts in
                    vertical.weights.withUnsafeBufferPointer { vWeights in
                        for y in 0..<vertical.windowCount {
                            let first = vStarts[y]
                            for tap in 0..<ringRows {
                                let sourceRow = first + tap
                                let slot = sourceRow % ringRows
                                let line = ring + slot * stride
                                if held[slot] != sourceRow {
                                    horizontalPass(
                                        source + sourceRow * width * 3, isLastRow: sourceRow == height - 1,
                                        width: width, starts: hStarts.baseAddress!, weights: hWeights.baseAddress!,
                                        taps: horizontal.taps, count: horizontal.windowCount, into: line)
                                    held[slot] = sourceRow
                                }
                                rows[tap] = UnsafePointer(line)
                            }
                            verticalPass(rows: rows, weights: vWeights.baseAddress! + y * ringRows, taps: ringRows,
                                         values: rowValues, normalisation: normalisation,
                                         into: output + y * rowValues)
                        }
                    }
                    }
                    }
                    }
                }
            }
        }
    }

    /// One source row -> the window's columns, 8-bit, clipped and rounded like Pillow.
    @inline(__always)
    static func horizontalPass(
        _ row: UnsafePointer<UInt8>, isLastRow: Bool, width: Int, starts: UnsafePointer<Int>,
        weights: UnsafePointer<Int32>, taps: Int, count: Int, into line: UnsafeMutablePointer<UInt8>
    ) {
        let raw = UnsafeRawPointer(row)
        let out = UnsafeMutableRawPointer(line)
        for x in 0..<count {
            let start = starts[x]
            let k = weights + x * taps
            var sum: SIMD4<Int32>
            if isLastRow && start + taps == width {
                // The 4-byte load of the last pixel would read past the image.
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
            // Writes one byte too many (the next pixel's, or the row's spare byte), overwritten next.
            out.storeBytes(of: SIMD4<UInt8>(truncatingIfNeeded: level), toByteOffset: x * 3, as: SIMD4<UInt8>.self)
        }
    }

    /// Rows of the horizontal pass -> one output row: fixed-point weighted sum, round, clip, then normalise.
    @inline(__always)
    static func verticalPass(
        rows: UnsafePointer<UnsafePointer<UInt8>>, weights: UnsafePointer<Int32>, taps: Int, values: Int,
        normalisation: Normalisation, into output: UnsafeMutablePointer<Float>
    ) {
        normalisation.meanPatterns.withUnsafeBufferPointer { means in
        normalisation.stdPatterns.withUnsafeBufferPointer { stds in
            var offset = 0
            var pattern = 0
            while offset < values {
                var sum = SIMD16<Int32>(repeating: ResampleAxis.rounding)
                for t in 0..<taps {
                    let bytes = UnsafeRawPointer(rows[t]).loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
                    sum &+= SIMD16<Int32>(truncatingIfNeeded: bytes) &* SIMD16(repeating: weights[t])
                }
                let level = (sum &>> ResampleAxis.precisionBits).clamped(lowerBound: .zero,
                                                                         upperBound: SIMD16(repeating: 255))
                let value = (SIMD16<Float>(level) - means[pattern]) / stds[pattern]
                if offset + 16 <= values {
                    UnsafeMutableRawPointer(output + offset).storeBytes(of: value, as: SIMD16<Float>.self)
                } else {
                    for lane in 0..<(values - offset) { output[offset + lane] = value[lane] }
                }
                offset += 16
                pattern = pattern == 2 ? 0 : pattern + 1
            }
        }
        }
    }
}
