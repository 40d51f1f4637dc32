import BottleneckEngine
import Testing

@Suite struct SoftmaxTests {
    @Test(arguments: [1, 3, 8, 17, 1000])
    func forwardMatchesReference(columns: Int) {
        var random = SplitMix64(seed: UInt64(columns))
        let rowCount = 5
        var values = random.floats(rowCount * columns, in: -30...30)
        // A row of huge logits: without subtracting the maximum, e^1000 would overflow.
        for column in 0..<columns { values[columns + column] += 1000 }
        let input = FloatBuffer(values)
        let fast = FloatBuffer(repeating: .nan, count: values.count)
        let expected = FloatBuffer(repeating: .nan, count: values.count)
        defer { [input, fast, expected].forEach { $0.deallocate() } }
        runInPieces(rows: 0..<rowCount, rowSize: columns, output: fast, sentinel: .nan) { rows in
            Softmax.forward(input: input.pointer, output: fast.pointer, rows: rows, columns: columns)
        }
        Softmax.reference(input: input.pointer, output: expected.pointer, rows: 0..<rowCount, columns: columns)
        // The reference is exact to fp32 rounding (Double). The kernel's exp is ~2 ulp, its fp32 sum of up to
        // 1000 terms adds ~1e-6 relative, and the scaling one more rounding: within 1e-5 relative plus 1e-7
        // absolute for probabilities near zero.
        let fastValues = fast.values, expectedValues = expected.values
        let worst = zip(fastValues, expectedValues).map { abs($0 - $1) - 1e-5 * $1 }.max()!
        #expect(worst <= 1e-7)
        for row in 0..<rowCount {
            let sum = fastValues[(row * columns)..<((row + 1) * columns)].reduce(0, +)
            #expect(abs(sum - 1) <= 1e-4, "row \(row) sums to \(sum)")
        }
    }

    @Test func forwardInPlace() {
        var random = SplitMix64(seed: 0x50F7)
        let columns = 21
        let values = random.floats(2 * columns, in: -5...5)
        let buffer = FloatBuffer(values), separate = FloatBuffer(repeating: 0, count: values.count)
        defer { [buffer, separate].forEach { $0.deallocate() } }
        Softmax.forward(input: buffer.pointer, output: separate.pointer, rows: 0..<2, columns: columns)
        Softmax.forward(input: buffer.pointer, output: buffer.pointer, rows: 0..<2, columns: columns)
        // Same code on the same values: bit-identical.
        #expect(buffer.values == separate.values)
    }
}
