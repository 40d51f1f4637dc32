import Foundation

/// Softmax over the last axis of a row-major `[rowCount, columns]` matrix (ONNX `Softmax` with `axis = -1`).
package enum Softmax {
    /// `output[r, j] = e^(x[r, j] - max_r) / sum_k e^(x[r, k] - max_r)` for the rows `rows`.
    ///
    /// Subtracting the row maximum keeps every exponent <= 0, so nothing overflows. Writes only its rows, so
    /// calls on disjoint row ranges may run concurrently; `output` may be `input` (in place).
    package static func forward(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int
    ) {
        precondition(columns > 0, "softmax over an empty axis")
        let vectorEnd = columns - columns % 8
        for row in rows {
            let source = input + row * columns
            let destination = output + row * columns

            var largestLanes = SIMD8<Float>(repeating: -.infinity)
            for column in stride(from: 0, to: vectorEnd, by: 8) {
                largestLanes = SIMD8.maximum(largestLanes, SIMD8(loadingFrom: source + column))
            }
            var largest = -Float.infinity
            for lane in 0..<8 { largest = Float.maximum(largest, largestLanes[lane]) }
            for column in vectorEnd..<columns { largest = Float.maximum(largest, source[column]) }

            let shift = SIMD8<Float>(repeating: largest)
            var sumLanes = SIMD8<Float>(repeating: 0)
            for column in stride(from: 0, to: vectorEnd, by: 8) {
                let exponential = VectorMath.exp(SIMD8(loadingFrom: source + column) - shift)
                exponential.store(to: destination + column)
                sumLanes += exponential
            }
            var sum: Float = 0
            if vectorEnd < columns {
                // The tail goes through the same vector code, padded; only its real lanes are kept and summed.
                var tail = SIMD8<Float>(repeating: largest)
                for column in vectorEnd..<columns { tail[column - vectorEnd] = source[column] }
                let exponential = VectorMath.exp(tail - shift)
                for column in vectorEnd..<columns {
                    destination[column] = exponential[column - vectorEnd]
                    sum += exponential[column - vectorEnd]
                }
            }
            for lane in 0..<8 { sum += sumLanes[lane] }

            let scale = SIMD8<Float>(repeating: 1 / sum)
            for column in stride(from: 0, to: vectorEnd, by: 8) {
                (SIMD8<Float>(loadingFrom: destination + column) * scale).store(to: destination + column)
            }
            for column in vectorEnd..<columns { destination[column] *= scale[0] }
        }
    }

    /// Naive implementation of `forward` in `Double` with Foundation's `exp`, the oracle for tests.
    package static func reference(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int
    ) {
        for row in rows {
            let values = (0..<columns).map { Double(input[row * columns + $0]) }
            let largest = values.max()!
            let exponentials = values.map { Foundation.exp($0 - largest) }
            let sum = exponentials.reduce(0, +)
            for column in 0..<columns { output[row * columns + column] = Float(exponentials[column] / sum) }
        }
    }
}
