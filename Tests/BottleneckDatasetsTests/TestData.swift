import BottleneckImages
import BottleneckDatasets
import Foundation

/// Builds fixture datasets in temporary folders: tiny PNGs (each seed gives different bytes), JPEG-signed bytes,
/// text files, symbolic links.
struct TestData {
    let root: URL

    /// A fresh, empty folder under the system's temporary folder.
    init(_ name: String = #function) throws {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("bottleneck-datasets-\(safe)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// A valid 8x8 grayscale PNG whose bytes depend on `seed`.
    static func png(_ seed: Int) throws -> [UInt8] {
        var pixels = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: seed).littleEndian) { pixels.replaceSubrange(0..<8, with: $0) }
        return try PNGEncoder.encodeGrayscale(width: 8, height: 8, pixels: pixels)
    }

    /// Bytes that start like a JPEG (SOI + APP0), which is all a scan checks; `seed` makes them distinct.
    static func jpegSigned(_ seed: Int) -> [UInt8] {
        [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0] + Array(String(seed).utf8) + [0xFF, 0xD9]
    }

    /// Writes bytes at a path relative to the root, creating folders; returns the file's URL.
    @discardableResult
    func write(_ bytes: [UInt8], _ relativePath: String) throws -> URL {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url
    }

    /// Writes a PNG with the given seed.
    @discardableResult
    func png(_ seed: Int, _ relativePath: String) throws -> URL {
        try write(try Self.png(seed), relativePath)
    }

    func text(_ text: String, _ relativePath: String) throws {
        try write(Array(text.utf8), relativePath)
    }

    /// A symbolic link at `relativePath` pointing to `destination` (as given: relative links stay relative).
    func link(_ relativePath: String, to destination: String) throws {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: destination)
    }

    func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

extension Dataset {
    /// Item paths relative to the root, mapped to their split.
    var splitsByPath: [String: DatasetSplit] {
        Dictionary(uniqueKeysWithValues: items.map { (displayPath(of: $0.path), $0.split) })
    }

    /// Item paths relative to the root, in dataset order.
    var relativePaths: [String] { items.map { displayPath(of: $0.path) } }

    func skipReason(of relativePath: String) -> SkippedFile.Reason? {
        report.skipped.first { $0.path == relativePath }?.reason
    }
}
