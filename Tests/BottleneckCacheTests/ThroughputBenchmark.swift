@testable import BottleneckCache
import Foundation
import Testing

/// Appends 100,000 1280-dimensional float32 vectors to a local folder, reopens it and streams them back; three runs,
/// medians printed. Only with `BOTTLENECK_CACHE_BENCH=1` (run it with `-c release`).
@Suite("Throughput benchmark", .enabled(if: ProcessInfo.processInfo.environment["BOTTLENECK_CACHE_BENCH"] == "1"))
struct ThroughputBenchmark {
    @Test("append + read 100k x 1280 float32 vectors, local folder")
    func appendAndRead() throws {
        let count = Int(ProcessInfo.processInfo.environment["BOTTLENECK_CACHE_BENCH_COUNT"] ?? "") ?? 100_000
        let dimension = 1280
        let namespace = try Fixtures.namespace(dimension: dimension)
        let hashes = Fixtures.hashes(0..<count)
        // One random block of vectors reused cyclically, so generation costs nothing in the timings.
        let block = (0..<256).flatMap { Fixtures.vector($0, dimension: dimension) }
        let clock = ContinuousClock()
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        var appendTimes: [Double] = [], openTimes: [Double] = [], streamTimes: [Double] = [], lookupTimes: [Double] = []
        var memoryAppendTimes: [Double] = [], memoryStreamTimes: [Double] = []
        let crcData = Data(block.withUnsafeBytes { Array($0) })
        let crcTime = seconds(clock.measure { for _ in 0..<50 { _ = CRC32C.checksum(crcData) } })
        for _ in 0..<3 {
            // The same in memory: what the cache itself costs, without the file system.
            let memory = InMemoryObjectStore()
            memoryAppendTimes.append(seconds(try clock.measure {
                let cache = try FeatureCache.open(store: memory, namespace: namespace, options: Fixtures.options())
                try block.withUnsafeBufferPointer { values in
                    for (i, hash) in hashes.enumerated() {
                        let row = (i % 256) * dimension
                        try cache.append(hash, UnsafeBufferPointer(rebasing: values[row..<row + dimension]))
                    }
                }
                try cache.close()
            }))
            memoryStreamTimes.append(seconds(try clock.measure {
                try FeatureCache.open(store: memory, namespace: namespace).forEachBatch { _ in }
            }))
            let folder = try TemporaryFolder("bench")
            defer { folder.remove() }
            appendTimes.append(seconds(try clock.measure {
                let cache = try FeatureCache.open(store: LocalDirectoryStore(root: folder.url), namespace: namespace,
                                                  options: Fixtures.options())
                try block.withUnsafeBufferPointer { values in
                    for (i, hash) in hashes.enumerated() {
                        let row = (i % 256) * dimension
                        try cache.append(hash, UnsafeBufferPointer(rebasing: values[row..<row + dimension]))
                    }
                }
                try cache.close()
            }))
            var reader: FeatureCache?
            openTimes.append(seconds(try clock.measure {
                reader = try FeatureCache.open(store: LocalDirectoryStore(root: folder.url), namespace: namespace)
            }))
            var streamed = 0
            var checksum: Float = 0
            streamTimes.append(seconds(try clock.measure {
                try reader!.forEachBatch { batch in
                    streamed += batch.count
                    checksum += batch.values[0]
                }
            }))
            #expect(streamed == count && reader!.problems.isEmpty)
            lookupTimes.append(seconds(try clock.measure {
                let found = try reader!.lookup(hashes)
                #expect(found.count == count)
            }))
        }
        let megabytes = Double(count * (dimension * 4 + 32)) / 1e6
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func line(_ label: String, _ times: [Double]) -> String {
            let m = median(times)
            return "\(label): median \(String(format: "%.2f", m)) s = \(Int(Double(count) / m)) vectors/s, "
                + "\(Int(megabytes / m)) MB/s (runs: \(times.map { String(format: "%.2f", $0) }.joined(separator: ", ")))"
        }
        print("[bench] \(count) x \(dimension) float32, \(Int(megabytes)) MB, shards of 64 MiB")
        print("[bench] " + line("append+close", appendTimes))
        print("[bench] " + line("open (index)", openTimes))
        print("[bench] " + line("stream (forEachBatch)", streamTimes))
        print("[bench] " + line("lookup (all hashes)", lookupTimes))
        print("[bench] " + line("in memory: append+close", memoryAppendTimes))
        print("[bench] " + line("in memory: stream", memoryStreamTimes))
        print("[bench] CRC-32C alone: \(Int(Double(crcData.count * 50) / crcTime / 1e6)) MB/s")
    }
}
