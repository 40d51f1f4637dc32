import BottleneckEngine
import Testing

@Suite struct BroadcastTests {
    struct Case: Sendable, CustomStringConvertible {
        var lhs: [Int]
        var rhs: [Int]
        var output: [Int]
        var description: String { "\(lhs) op \(rhs) -> \(output)" }
    }

    static let cases: [Case] = [
        Case(lhs: [2, 3, 5], rhs: [5], output: [2, 3, 5]),
        Case(lhs: [3, 1, 5], rhs: [1, 4, 1], output: [3, 4, 5]),
        Case(lhs: [1], rhs: [2, 3], output: [2, 3]),
        Case(lhs: [], rhs: [3, 2], output: [3, 2]),
        Case(lhs: [], rhs: [], output: []),
        Case(lhs: [2, 1, 3, 1], rhs: [5, 1, 7], output: [2, 5, 3, 7]),
        Case(lhs: [1, 17, 1, 1], rhs: [3, 17, 7, 5], output: [3, 17, 7, 5]),
        Case(lhs: [3, 4, 6], rhs: [3, 4, 6], output: [3, 4, 6]),
        Case(lhs: [4, 1], rhs: [1], output: [4, 1]),
        Case(lhs: [2, 0, 3], rhs: [1, 3], output: [2, 0, 3]),
    ]

    @Test(arguments: cases, BinaryOperation.allCases)
    func binaryMatchesReference(shapes: Case, op: BinaryOperation) {
        #expect(Broadcast.resultShape(shapes.lhs, shapes.rhs) == shapes.output)
        var random = SplitMix64(seed: 0xB40)
        let count = shapes.output.reduce(1, *)
        let lhs = FloatBuffer(random.floats(shapes.lhs.reduce(1, *), in: -4...4))
        // Divisors kept away from zero.
        let rhs = FloatBuffer(random.floats(shapes.rhs.reduce(1, *), in: 0.5...2))
        let fast = FloatBuffer(repeating: .nan, count: count), expected = FloatBuffer(repeating: .nan, count: count)
        defer { [lhs, rhs, fast, expected].forEach { $0.deallocate() } }
        Broadcast.binary(op: op, lhsShape: shapes.lhs, lhs: lhs.pointer, rhsShape: shapes.rhs, rhs: rhs.pointer,
                         outputShape: shapes.output, output: fast.pointer)
        Broadcast.reference(op: op, lhsShape: shapes.lhs, lhs: lhs.pointer, rhsShape: shapes.rhs, rhs: rhs.pointer,
                            outputShape: shapes.output, output: expected.pointer)
        // The same single operation on the same pair of operands: bit-identical.
        #expect(fast.values == expected.values)
    }

    @Test func binaryFollowsNumPyOnAKnownExample() {
        // [[1], [2]] - [10, 20, 30] = [[-9, -19, -29], [-8, -18, -28]], as NumPy computes it.
        let lhs = FloatBuffer([1, 2]), rhs = FloatBuffer([10, 20, 30]), output = FloatBuffer(repeating: 0, count: 6)
        defer { [lhs, rhs, output].forEach { $0.deallocate() } }
        Broadcast.binary(op: .sub, lhsShape: [2, 1], lhs: lhs.pointer, rhsShape: [3], rhs: rhs.pointer,
                         outputShape: [2, 3], output: output.pointer)
        #expect(output.values == [-9, -19, -29, -8, -18, -28])
    }

    @Test func incompatibleShapesHaveNoResultShape() {
        #expect(Broadcast.resultShape([2, 3], [4, 3]) == nil)
        #expect(Broadcast.resultShape([5, 2], [2, 5]) == nil)
        #expect(Broadcast.resultShape([1, 3, 1], [7, 1, 1, 4]) == [7, 1, 3, 4])
    }
}
