import Foundation

/// Where the model input comes from in an image: the resized size and the crop inside it.
public struct PreprocessingGeometry: Sendable, Equatable {
    /// The size the whole image is resized to (shorter side = `resize_shorter_side`).
    public let resizedWidth: Int
    public let resizedHeight: Int
    /// Top-left corner of the crop in the resized image.
    public let cropX: Int
    public let cropY: Int
    /// Side of the square crop (`input_size`).
    public let cropSize: Int

    /// The reference's arithmetic: `s = R / min(w, h)`, sides `round(w * s)`, `round(h * s)` in double precision
    /// with ties to even (Python's `round`), crop offsets `(side - size) // 2`.
    public init(width: Int, height: Int, spec: PreprocessingSpec) {
        precondition(width > 0 && height > 0, "image sides must be positive, got \(width)x\(height)")
        let scale = Double(spec.resizeShorterSide) / Double(min(width, height))
        resizedWidth = max(1, Int((Double(width) * scale).rounded(.toNearestOrEven)))
        resizedHeight = max(1, Int((Double(height) * scale).rounded(.toNearestOrEven)))
        cropSize = spec.inputSize
        // The shorter side rounds to exactly resize_shorter_side >= input_size, so both offsets are >= 0.
        cropX = (resizedWidth - cropSize) / 2
        cropY = (resizedHeight - cropSize) / 2
    }
}

/// Resampling weights of one axis, as Pillow's `ImagingResample` computes them for `Image.BILINEAR` (a triangle
/// filter widened by the downscaling factor, i.e. antialiased), restricted to a window of the output and
/// converted to the 8-bit path's fixed point.
///
/// Every output `i` of the window reads `taps` consecutive inputs from `starts[i]` with weights
/// `weights[i * taps ..< (i + 1) * taps]`. The tap count is the same for every output (shorter windows are padded
/// with zero weights and moved inside the image), so loops need no per-output bounds; zero weights add exactly
/// nothing, so the sums are Pillow's.
final class ResampleAxis: Sendable {
    /// Fixed-point fraction bits of the weights: Pillow's `PRECISION_BITS` (32 - 8 - 2).
    static let precisionBits: Int32 = 22
    /// Added before the final shift so that it rounds half up, like Pillow's `1 << (PRECISION_BITS - 1)`.
    static let rounding: Int32 = 1 << (precisionBits - 1)

    let inputSize: Int
    let outputSize: Int
    let windowStart: Int
    let windowCount: Int
    let taps: Int
    let starts: [Int]
    let weights: [Int32]

    init(inputSize: Int, outputSize: Int, windowStart: Int, windowCount: Int) {
        precondition(inputSize > 0 && outputSize > 0 && windowStart >= 0 && windowCount > 0
            && windowStart + windowCount <= outputSize, "invalid resampling window")
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.windowStart = windowStart
        self.windowCount = windowCount

        var spans: [(first: Int, weights: [Int32])] = []
        spans.reserveCapacity(windowCount)
        for output in windowStart..<(windowStart + windowCount) {
            let (first, exact) = Self.pillowWeights(inputSize: inputSize, outputSize: outputSize, output: output)
            var fixed = exact.map(Self.fixedPoint)
            var start = first
            // Drop zero weights at both ends (Pillow's windows include the filter's zero edges).
            while fixed.count > 1, fixed.first == 0 { fixed.removeFirst(); start += 1 }
            while fixed.count > 1, fixed.last == 0 { fixed.removeLast() }
            spans.append((start, fixed))
        }
        let taps = spans.map(\.weights.count).max()!
        self.taps = taps
        var starts = [Int](repeating: 0, count: windowCount)
        var weights = [Int32](repeating: 0, count: windowCount * taps)
        for (index, span) in spans.enumerated() {
            // Keep the `taps` inputs inside the image: a span near the end starts earlier, its weights later.
            let start = min(span.first, inputSize - taps)
            starts[index] = start
            for (offset, weight) in span.weights.enumerated() {
                weights[index * taps + (span.first - start) + offset] = weight
            }
        }
        self.starts = starts
        self.weights = weights
    }

    /// Pillow's `precompute_coeffs` for one output sample with the bilinear filter and the full-image box:
    /// the first input index and the normalised weights of inputs `first...`, in double precision, evaluated in
    /// the same order as the C code so that the fixed-point weights come out identical.
    static func pillowWeights(inputSize: Int, outputSize: Int, output: Int) -> (first: Int, weights: [Double]) {
        // The box is float; `in1 - in0` is a float subtraction widened to double.
        let scale = Double(Float(inputSize)) / Double(outputSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale  // the bilinear filter's support is 1
        let center = (Double(output) + 0.5) * scale
        let inverseFilterScale = 1.0 / filterScale
        // C's (int) conversion truncates toward zero, as Int(Double) does.
        let first = max(Int(center - support + 0.5), 0)
        let end = min(Int(center + support + 0.5), inputSize)
        var weights: [Double] = []
        weights.reserveCapacity(max(end - first, 0))
        var total = 0.0
        for input in first..<max(end, first) {
            let w = triangle((Double(input) - center + 0.5) * inverseFilterScale)
            weights.append(w)
            total += w
        }
        if total != 0 {
            for index in weights.indices { weights[index] /= total }
        }
        return (first, weights)
    }

    /// Pillow's `bilinear_filter`.
    @inline(__always)
    static func triangle(_ x: Double) -> Double {
        let distance = x < 0 ? -x : x
        return distance < 1 ? 1 - distance : 0
    }

    /// Pillow's `normalize_coeffs_8bpc`: round half away from zero by truncating `w * 2^22 ± 0.5`.
    @inline(__always)
    static func fixedPoint(_ weight: Double) -> Int32 {
        let scaled = weight * Double(1 << precisionBits)
        return Int32(scaled < 0 ? -0.5 + scaled : 0.5 + scaled)
    }
}

/// A small thread-safe cache of `ResampleAxis` tables, keyed by (input size, output size, window).
///
/// Datasets tend to have a handful of image sizes, so a few dozen entries hit nearly always; when full, the
/// least recently used entry goes.
final class ResampleAxisCache: @unchecked Sendable {
    private struct Key: Hashable {
        let inputSize: Int, outputSize: Int, windowStart: Int, windowCount: Int
    }

    private let lock = NSLock()
    private var entries: [Key: (axis: ResampleAxis, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    init(capacity: Int = 32) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func axis(inputSize: Int, outputSize: Int, windowStart: Int, windowCount: Int) -> ResampleAxis {
        let key = Key(inputSize: inputSize, outputSize: outputSize, windowStart: windowStart,
                      windowCount: windowCount)
        lock.lock()
        clock &+= 1
        if let entry = entries[key] {
            entries[key] = (entry.axis, clock)
            lock.unlock()
            return entry.axis
        }
        lock.unlock()
        // Computed outside the lock: two threads may both build the same table, which is harmless.
        let axis = ResampleAxis(inputSize: inputSize, outputSize: outputSize, windowStart: windowStart,
                                windowCount: windowCount)
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity, entries[key] == nil,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[oldest] = nil
        }
        clock &+= 1
        entries[key] = (axis, clock)
        return axis
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
}
