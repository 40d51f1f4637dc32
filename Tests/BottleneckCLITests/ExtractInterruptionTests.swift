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
        let committed = Self.shardCount(cache)

        let second = try CommandLineTests.run(Self.arguments(data, cache))
        #expect(second.status == 0, "\(second.error)")
        let resumed = try #require(Self.counts(second.output), "output: \(second.output)")
        if signal == SIGKILL {
            // Shards of --flush-every 8 vectors: every committed one is reused, the unflushed rest redone.
            #expect(resumed.reused >= committed * 8, "every committed shard is reused")
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
