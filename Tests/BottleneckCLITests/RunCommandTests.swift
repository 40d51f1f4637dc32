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
}
