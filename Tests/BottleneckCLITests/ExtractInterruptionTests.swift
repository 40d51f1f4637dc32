import BottleneckImages
import Foundation
import Testing

/// `bottleneck extract` killed at any moment (SIGKILL) or interrupted (SIGINT) and run again finishes,
/// recomputing only what is missing.
@Suite(.serialized) struct ExtractInterruptionTests {
    static let imageCount = 120

    /// 120 distinct PNGs in two classes, and an empty cache folder.
    static func makeDataset() throws -> (root: URL, data: URL, cache: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-kill-\(UUID().uuidString)")
        let data = root.appendingPathComponent("data")
        for label in ["left", "right"] {
            try FileManager.default.createDirectory(at: data.appendingPathComponent(label),
                                                    withIntermediateDirectories: true)
        }
        for index in 0..<imageCount {
            var pixels = [UInt8](repeating: 0, count: 32 * 24 * 3)
            for offset in pixels.indices { pixels[offset] = UInt8(truncatingIfNeeded: offset * (index + 3) / 7) }
            let bytes = try PNGEncoder.encode(RGBImage(width: 32, height: 24, pixels: pixels))
            let label = index % 2 == 0 ? "left" : "right"
            try Data(bytes).write(to: data.appendingPathComponent("\(label)/\(index).png"))
        }
        return (root, data, root.appendingPathComponent("cache"))
    }

    static func arguments(_ data: URL, _ cache: URL) -> [String] {
        ["extract", "--data", data.path, "--cache", cache.path, "--threads", "1", "--flush-every", "8"]
    }

    /// Committed shard files under the cache.
    static func shardCount(_ cache: URL) -> Int {
        let files = FileManager.default.enumerator(atPath: cache.path)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".bnks") && $0.contains("/shards/") }.count
    }

    /// Vectors the cache has committed: those of the shards its writers' manifests list. A shard file written but
    /// not yet listed (the process died between the two writes) is not committed, and its vectors are redone.
    static func committedVectors(_ cache: URL) throws -> Int {
        let files = FileManager.default.enumerator(atPath: cache.path)?.compactMap { $0 as? String } ?? []
        var total = 0
        for file in files where file.hasSuffix(".json") && file.contains("manifests/") {
            let data = try Data(contentsOf: cache.appendingPathComponent(file))
            let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let shards = try #require(manifest["shards"] as? [[String: Any]])
            total += shards.compactMap { $0["count"] as? Int }.reduce(0, +)
        }
        return total
    }

    /// `extracted X, reused Y` from a summary line.
    static func counts(_ output: String) -> (extracted: Int, reused: Int)? {
        guard let match = output.firstMatch(of: /extracted (\d+), reused (\d+) from cache/) else { return nil }
        return (Int(match.1)!, Int(match.2)!)
    }

    /// Starts an extraction, signals it once at least three shards are committed, then checks a second run.
    func interruptAndResume(with signal: Int32) throws {
        let (root, data, cache) = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: root) }
        let process = Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = Self.arguments(data, cache)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Self.shardCount(cache) < 3 && process.isRunning && Date() < deadline { usleep(10_000) }
        #expect(process.isRunning, "the run finished before it could be interrupted; make the dataset bigger")
        kill(process.processIdentifier, signal)
        let firstOutput = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if signal == SIGKILL {
            #expect(process.terminationReason == .uncaughtSignal)
        } else {
            #expect(process.terminationStatus == 130, "output: \(firstOutput)")
            #expect(firstOutput.contains("INTERRUPTED"), "output: \(firstOutput)")
        }
        let committed = try Self.committedVectors(cache)

        let second = try CommandLineTests.run(Self.arguments(data, cache))
        #expect(second.status == 0, "\(second.error)")
        let resumed = try #require(Self.counts(second.output), "output: \(second.output)")
        if signal == SIGKILL {
            // Every committed vector is reused; the unflushed rest (and a shard written but not yet listed) redone.
            #expect(committed >= 8, "at least one shard was committed before the kill")
            #expect(resumed.reused == committed, "every committed vector is reused, nothing else")
        } else {
            // SIGINT flushes on the way out: everything the first run computed is kept.
            let interrupted = try #require(Self.counts(firstOutput), "output: \(firstOutput)")
            #expect(resumed.reused == interrupted.extracted && interrupted.extracted > 0)
        }
        #expect(resumed.reused < Self.imageCount, "the first run was stopped before the end")
        #expect(resumed.extracted + resumed.reused == Self.imageCount)

        let third = try CommandLineTests.run(Self.arguments(data, cache))
        #expect(Self.counts(third.output).map { [$0.extracted, $0.reused] } == [0, Self.imageCount])
    }

    @Test func sigkillLosesOnlyUncommittedVectors() throws {
        try interruptAndResume(with: SIGKILL)
    }

    @Test func sigintStopsCleanlyAndKeepsEverything() throws {
        try interruptAndResume(with: SIGINT)
    }
}
