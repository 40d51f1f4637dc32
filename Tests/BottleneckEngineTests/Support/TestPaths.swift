import Foundation

/// Locations of the repository, the shared reference and the generated fixtures, found from this file.
enum TestPaths {
    /// The repository root (three levels above this file: Tests/BottleneckEngineTests/Support).
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `../shared/reference` next to the repository.
    static let reference = repository.deletingLastPathComponent().appendingPathComponent("shared/reference")

    /// Operator fixtures written by `make fixtures` (scripts/make_op_fixtures.py).
    static let operatorFixtures = repository.appendingPathComponent("Tests/Fixtures/generated/ops")

    /// Reads raw little-endian float32 values.
    static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { bytes in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }

    /// The largest absolute difference between two equally long arrays.
    static func maximumDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}
