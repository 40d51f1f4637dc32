import BottleneckImages
import Foundation
import Testing

/// Small labelled image folders made by the tests, and the backbone `make model` installs.
enum ExtractionFixtures {
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// models/efficientnet-lite0.onnx, written by `make model` (part of `make test`).
    static var model: URL {
        get throws {
            let url = repository.appendingPathComponent("models/efficientnet-lite0.onnx")
            guard FileManager.default.fileExists(atPath: url.path) else {
                Issue.record("missing \(url.path): run `make model` (make test does it first)")
                throw CocoaError(.fileNoSuchFile)
            }
            return url
        }
    }

    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bottleneck-extraction-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A PNG whose pixels depend on `seed`: a colour gradient with a stripe pattern, `width` x `height`.
    static func png(seed: Int, width: Int = 40, height: Int = 30) throws -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let offset = (y * width + x) * 3
                pixels[offset] = UInt8(truncatingIfNeeded: x * 6 + seed * 37)
                pixels[offset + 1] = UInt8(truncatingIfNeeded: y * 8 + seed * 11)
                pixels[offset + 2] = (x / (seed % 5 + 2) + y) % 2 == 0 ? 230 : 20
            }
        }
        return try PNGEncoder.encode(RGBImage(width: width, height: height, pixels: pixels))
    }

    /// Writes `perClass` images into each of `classes` folders under `root`, seeds starting at `firstSeed`.
    static func writeImages(into root: URL, classes: [String], perClass: Int, firstSeed: Int = 0) throws {
        for (classIndex, label) in classes.enumerated() {
            let folder = root.appendingPathComponent(label)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for index in 0..<perClass {
                let seed = firstSeed + classIndex * 1000 + index
                try Data(try png(seed: seed)).write(to: folder.appendingPathComponent("image-\(seed).png"))
            }
        }
    }
}
