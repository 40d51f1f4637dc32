import BottleneckEngine
import BottleneckImages
import Foundation
import Testing

/// `run` (extract, train, evaluate), `train` without cached vectors, and `evaluate --run` on a small synthetic
/// image folder, through the built binary.
@Suite struct RunCommandTests {
    /// Three classes of 12 images each, distinct by colour so a head can learn them; train/ and test/ folders.
    static func makeDataset() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-run-\(UUID().uuidString)")
        let colours: [(String, [UInt8])] = [("red", [220, 30, 30]), ("green", [30, 200, 40]), ("blue", [30, 40, 220])]
        for split in ["train", "test"] {
            for (label, colour) in colours {
                let folder = root.appendingPathComponent("data/\(split)/\(label)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for index in split == "train" ? 0..<12 : 20..<24 {
                    var pixels = [UInt8](repeating: 0, count: 24 * 24 * 3)
                    for offset in 0..<(24 * 24) {
                        for channel in 0..<3 {
                            let noise = (offset * 7 + index * 13 + channel * 5) % 40  // distinct for index < 40
                            pixels[offset * 3 + channel] = UInt8(min(255, Int(colour[channel]) + noise))
                        }
                    }
                    let png = try PNGEncoder.encode(RGBImage(width: 24, height: 24, pixels: pixels))
                    try Data(png).write(to: folder.appendingPathComponent("\(split)-\(index).png"))
                }
            }
        }
        return root
    }

    @Test func runExtractsTrainsAndEvaluates() throws {
        let root = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, cache, output) = (root.appendingPathComponent("data").path, root.appendingPathComponent("cache").path,
                                     root.appendingPathComponent("run").path)
        let model = CommandLineTests.repository.appendingPathComponent("models/efficientnet-lite0.onnx").path

        let untrained = try CommandLineTests.run(["train", "--data", data, "--backbone", model, "--cache", cache,
                                                  "--output", output])
        #expect(untrained.status != 0 && !untrained.crashed)
        #expect(untrained.error.contains("have no cached vector") && untrained.error.contains("bottleneck extract"),
                "\(untrained.error)")

        let result = try CommandLineTests.run(["run", "--data", data, "--backbone", model, "--cache", cache,
                                               "--output", output, "--epochs", "15", "--learning-rate", "0.01"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("extracted 48"), "\(result.output)")
        let accuracy = try #require(result.output.firstMatch(of: /accuracy +([0-9.]+) +12/)).1
        #expect(Double(accuracy)! >= 0.9, "three colours should be easy: \(result.output)")
        for file in ["head.json", "labels.json", "split.json", "metrics.jsonl", "run.json", "report.json", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: "\(output)/\(file)"), "missing \(file)")
        }
        let epochs = try String(contentsOfFile: "\(output)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(epochs.count == 15)

        try FileManager.default.removeItem(atPath: "\(output)/report.html")
        let evaluation = try CommandLineTests.run(["evaluate", "--run", output])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        #expect(FileManager.default.fileExists(atPath: "\(output)/report.html"))
    }

    // int8 vectors go to a cache namespace of their own (not the fp32 vectors already there), the run records its
    // precision, and export checks the combined model, run at int8, against the head on those int8 vectors.
    @Test(.enabled(if: Precision.int8.isSupported, "needs AVX-512 VNNI"))
    func int8RunIsCachedApartAndExportChecksAtInt8() throws {
        let root = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, cache) = (root.appendingPathComponent("data").path, root.appendingPathComponent("cache").path)
        let model = CommandLineTests.repository.appendingPathComponent("models/efficientnet-lite0.onnx").path
        let common = ["--data", data, "--backbone", model, "--cache", cache, "--epochs", "15",
                      "--learning-rate", "0.01"]
        var folders: [String: String] = [:]
        for precision in ["fp32", "int8"] {
            let output = root.appendingPathComponent("run-\(precision)").path
            folders[precision] = output
            let result = try CommandLineTests.run(["run", "--output", output, "--precision", precision] + common)
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.contains("extracted 48"), "\(precision): \(result.output)")
        }
        let namespaces = try FileManager.default.contentsOfDirectory(atPath: cache).filter { !$0.hasPrefix(".") }
        #expect(namespaces.count == 2, "\(namespaces)")
        let record = try String(contentsOfFile: "\(folders["int8"]!)/run.json", encoding: .utf8)
        #expect(record.contains(#""precision" : "int8""#), "\(record)")

        let combined = root.appendingPathComponent("int8.onnx").path
        let exported = try CommandLineTests.run(["export", "--run", folders["int8"]!, "--output", combined,
                                                 "--check-images", "8"])
        #expect(exported.status == 0, "\(exported.error)")
        // At int8 the check repeats the vectors' own arithmetic: 2.5e-14 measured; run at fp32 it differs by
        // 2e-8 even here, where the three colours push every probability to nearly 0 or 1.
        let difference = try #require(exported.output.firstMatch(of: #/cached vectors\| = ([0-9.e+-]+) /#)).1
        #expect(Double(difference)! < 1e-10, "\(exported.output)")
        #expect(exported.output.contains("top-1 agrees on 8/8"), "\(exported.output)")
    }
}
