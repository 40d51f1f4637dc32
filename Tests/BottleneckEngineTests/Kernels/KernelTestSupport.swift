import Testing

/// SplitMix64: a tiny deterministic generator, so every kernel test sees the same "random" data on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` floats drawn uniformly from `range`.
    mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}

/// A manually managed `Float` buffer for passing to kernels; call `deallocate()` (use `defer`).
///
/// A struct rather than a class with `deinit`, because optimised builds may release a class right after its last
/// use, which would be the read of `pointer`, before the kernel has run.
struct FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(from: values, count: count)
    }

    init(repeating value: Float, count: Int) {
        self.init([Float](repeating: value, count: count))
    }

    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    func deallocate() { pointer.deallocate() }
}

/// Splits `range` into `pieces` consecutive, uneven, possibly empty sub-ranges that cover it, the way a caller
/// splits output rows across threads.
func split(_ range: Range<Int>, into pieces: Int) -> [Range<Int>] {
    var bounds = [range.lowerBound]
    for piece in 1..<pieces {
        // Uneven cut points (roughly 1/3 then 3/4 of the way) so pieces differ in size.
        let fraction = piece == 1 ? 1.0 / 3.0 : 3.0 / 4.0
        bounds.append(max(bounds.last!, range.lowerBound + Int(Double(range.count) * fraction)))
    }
    bounds.append(range.upperBound)
    return (0..<pieces).map { bounds[$0]..<bounds[$0 + 1] }
}

/// Largest `|actual - expected| / max(1, |expected|)`: relative error for large values, absolute near zero.
func maximumError(_ actual: [Float], _ expected: [Float]) -> Float {
    precondition(actual.count == expected.count)
    var worst: Float = 0
    for (a, e) in zip(actual, expected) {
        if a == e { continue }  // also covers matching infinities
        let error = abs(a - e) / max(1, abs(e))
        worst = max(worst, error.isNaN ? .infinity : error)
    }
    return worst
}

/// Runs `kernel` over `rows` split into three uneven pieces and checks each call writes only its own rows:
/// before each call every not-yet-computed element still holds the sentinel the buffer was filled with.
/// - Parameter rowSize: floats per row in `output`.
func runInPieces(
    rows: Range<Int>, rowSize: Int, output: FloatBuffer, sentinel: Float,
    sourceLocation: SourceLocation = #_sourceLocation, _ kernel: (Range<Int>) -> Void
) {
    for piece in split(rows, into: 3) {
        kernel(piece)
        let values = output.values
        let untouched = values[(piece.upperBound * rowSize)...].allSatisfy { $0 == sentinel || $0.isNaN && sentinel.isNaN }
        #expect(untouched, "a call on rows \(piece) wrote past its rows", sourceLocation: sourceLocation)
    }
}
