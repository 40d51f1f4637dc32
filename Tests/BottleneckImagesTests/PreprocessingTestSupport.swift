import BottleneckImages
import Foundation

/// Paths, golden files and Pillow (through the project venv) for the preprocessing tests.
enum PreprocessingTestSupport {
    /// The repository root: two levels above this file's folder (Tests/BottleneckImagesTests). Symlinks are
    /// resolved so that a package that links these files in still finds the real repository.
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/reference` next to the repository.
    static let reference = repository.deletingLastPathComponent().appendingPathComponent("shared/reference")
    static let goldenDirectory = reference.appendingPathComponent("golden")
    static let goldenImages = ["chelsea.jpg", "coffee.png", "camera.png", "horse.png", "rocket.jpg"]

    /// The project venv's interpreter (`make venv`), which has Pillow pinned in scripts/requirements.txt.
    static let python = repository.appendingPathComponent(".venv/bin/python")

    /// Raw little-endian float32 values.
    static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { bytes in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }

    /// `[1, C, H, W]` -> `[H, W, C]`.
    static func nchwToNHWC(_ values: [Float], channels: Int, height: Int, width: Int) -> [Float] {
        precondition(values.count == channels * height * width)
        var result = [Float](repeating: 0, count: values.count)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    result[(y * width + x) * channels + c] = values[(c * height + y) * width + x]
                }
            }
        }
        return result
    }

    static func maximumDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "compared arrays differ in length")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a Python program with the venv interpreter; throws with its stderr when it fails.
    static func runPython(_ program: String, arguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw ProcessFailure(description: "no Python venv at \(python.path): run `make venv`")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", program] + arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ProcessFailure(description: "python failed (\(process.terminationStatus)): "
                + String(decoding: message, as: UTF8.self) + " (Pillow is pinned in scripts/requirements.txt;"
                + " run `make venv`)")
        }
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bottleneck-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Reads `NAME.rgb` (raw RGB bytes) and `NAME.size` ("width height") written by the Python helpers.
    static func readRaw(_ directory: URL, _ name: String) throws -> RGBImage {
        let size = try String(contentsOf: directory.appendingPathComponent("\(name).size"), encoding: .utf8)
            .split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("\(name).rgb")))
        return RGBImage(width: size[0], height: size[1], pixels: bytes)
    }

    /// The golden images as Pillow decodes them (`Image.open(path).convert('RGB')`, as the reference does),
    /// by file name. Made once per test run.
    static func pillowDecodedGoldenImages() throws -> [String: RGBImage] {
        try pillowGoldenImages.get()
    }

    private static let pillowGoldenImages = Result { () throws -> [String: RGBImage] in
        let directory = try temporaryDirectory("pillow-golden")
        defer { try? FileManager.default.removeItem(at: directory) }
        try runPython("""
            import sys, os
            from PIL import Image
            src, out = sys.argv[1], sys.argv[2]
            for name in sys.argv[3:]:
                im = Image.open(os.path.join(src, name)).convert('RGB')
                open(os.path.join(out, name + '.rgb'), 'wb').write(im.tobytes())
                open(os.path.join(out, name + '.size'), 'w').write('%d %d' % im.size)
            """, arguments: [goldenDirectory.appendingPathComponent("images").path, directory.path] + goldenImages)
        var images: [String: RGBImage] = [:]
        for name in goldenImages { images[name] = try readRaw(directory, name) }
        return images
    }

    /// A deterministic test image with smooth regions, edges and noise, so that rounding is exercised.
    static func syntheticImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let smooth = 128 + 100 * sin(Double(x * (c + 1)) / 7 + Double(y) / 5)
                    let edge = (x / 5 + y / 3 + c).isMultiple(of: 2) ? 40.0 : -40.0
                    let noise = Double(next() % 61) - 30
                    pixels[(y * width + x) * 3 + c] = UInt8(max(0, min(255, smooth + edge + noise)))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
