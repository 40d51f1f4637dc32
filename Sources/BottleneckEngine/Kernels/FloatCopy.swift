/// SIMD copies and fills of short `Float` runs, for kernels that move many small pieces (windows, channel
/// segments) where a `memmove`/`memset` call per piece would cost more than the move.
enum FloatCopy {
    /// Copies `count` floats; the ranges must not overlap.
    @inline(__always)
    static func copy(from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        var index = 0
        while index + 16 <= count {
            SIMD16<Float>(loadingFrom: source + index).store(to: destination + index)
            index += 16
        }
        if index + 8 <= count {
            SIMD8<Float>(loadingFrom: source + index).store(to: destination + index)
            index += 8
        }
        while index < count {
            destination[index] = source[index]
            index += 1
        }
    }

    /// Sets `count` floats to `value`.
    @inline(__always)
    static func fill(_ destination: UnsafeMutablePointer<Float>, with value: Float, count: Int) {
        let vector = SIMD8<Float>(repeating: value)
        var index = 0
        while index + 8 <= count {
            vector.store(to: destination + index)
            index += 8
        }
        while index < count {
            destination[index] = value
            index += 1
        }
    }
}
