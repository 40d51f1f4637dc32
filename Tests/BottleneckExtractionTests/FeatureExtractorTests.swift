import BottleneckCache
import BottleneckDatasets
import BottleneckExtraction
import Foundation
import Testing

/// Extraction end to end on small synthetic folders with the real EfficientNet-Lite0 backbone.
@Suite struct FeatureExtractorTests {
    func options(data: URL, cache: URL, threads: Int = 2, shard: ShardAssignment = .all) throws -> ExtractionOptions {
        ExtractionOptions(data: data, model: try ExtractionFixtures.model, cache: .directory(cache), threads: threads,
                          shard: shard)
    }

    @Test func rerunsReuseTheCacheAndOnlyNewOrEditedImagesAreExtracted() throws {
        let root = try ExtractionFixtures.temporaryFolder("rerun")
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, cache) = (root.appendingPathComponent("data"), root.appendingPathComponent("cache"))
        try ExtractionFixtures.writeImages(into: data, classes: ["circle", "square", "triangle"], perClass: 6)

        let first = try FeatureExtractor(options: try options(data: data, cache: cache)).run()
        #expect((first.assigned, first.extracted, first.reused, first.interrupted) == (18, 18, 0, false))

        let second = try FeatureExtractor(options: try options(data: data, cache: cache)).run()
        #expect((second.extracted, second.reused) == (0, 18))

        try ExtractionFixtures.writeImages(into: data, classes: ["circle"], perClass: 2, firstSeed: 500)
        let edited = data.appendingPathComponent("square/image-1000.png")
        try Data(try ExtractionFixtures.png(seed: 777)).write(to: edited)
        let third = try FeatureExtractor(options: try options(data: data, cache: cache)).run()
        #expect((third.assigned, third.extracted, third.reused) == (20, 3, 17))
    }

    @Test func damagedImagesAreSkippedAndReportedNotFatal() throws {
        let root = try ExtractionFixtures.temporaryFolder("damaged")
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, cache) = (root.appendingPathComponent("data"), root.appendingPathComponent("cache"))
        try ExtractionFixtures.writeImages(into: data, classes: ["a", "b"], perClass: 4)
        let whole = try ExtractionFixtures.png(seed: 99)
        try Data(whole.prefix(whole.count / 2)).write(to: data.appendingPathComponent("a/truncated.png"))

        let extractor = try FeatureExtractor(options: try options(data: data, cache: cache))
        let summary = try extractor.run()
        #expect(summary.extracted == 8)
        let skipped = try #require(summary.skipped.first { $0.path.hasSuffix("truncated.png") })
        #expect(skipped.reason == .damaged, "\(skipped.line)")
        #expect(!extractor.dataset.items.contains { $0.path.lastPathComponent == "truncated.png" })
    }

    /// Two shards filling one cache store exactly the vectors of a single run, bit for bit.
    @Test func shardsTogetherEqualOneRunBitForBit() throws {
        let root = try ExtractionFixtures.temporaryFolder("shards")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try ExtractionFixtures.writeImages(into: data, classes: ["x", "y"], perClass: 7)
        let (sharded, single) = (root.appendingPathComponent("sharded"), root.appendingPathComponent("single"))

        var shardCounts: [Int] = []
        for index in 0..<2 {
            let shard = try ShardAssignment(index: index, count: 2)
            shardCounts.append(try FeatureExtractor(options: try options(data: data, cache: sharded, threads: 1,
                                                                          shard: shard)).run().extracted)
        }
        #expect(shardCounts.reduce(0, +) == 14 && !shardCounts.contains(0))
        let reference = try FeatureExtractor(options: try options(data: data, cache: single))
        #expect(try reference.run().extracted == 14)

        let hashes = try reference.assignedImages().map(\.hash)
        let shardedCache = try FeatureCache.open(store: LocalDirectoryStore(root: sharded), namespace: reference.namespace)
        let singleCache = try FeatureCache.open(store: LocalDirectoryStore(root: single), namespace: reference.namespace)
        let (left, right) = (try shardedCache.lookup(hashes), try singleCache.lookup(hashes))
        #expect(left.count == 14 && right.count == 14)
        for hash in hashes {
            #expect(left[hash]?.map(\.bitPattern) == right[hash]?.map(\.bitPattern), "vector of \(hash) differs")
        }
    }

    @Test func aModelWithoutPreprocessingMetadataIsRefusedClearly() throws {
        let root = try ExtractionFixtures.temporaryFolder("nometa")
        defer { try? FileManager.default.removeItem(at: root) }
        try ExtractionFixtures.writeImages(into: root.appendingPathComponent("data"), classes: ["a"], perClass: 1)
        let reference = ExtractionFixtures.repository.deletingLastPathComponent()
            .appendingPathComponent("shared/reference/efficientnet-lite0.onnx")
        var options = try options(data: root.appendingPathComponent("data"), cache: root.appendingPathComponent("c"))
        options.model = reference
        #expect {
            _ = try FeatureExtractor(options: options)
        } throws: { error in
            "\(error)".contains("has no 'bottleneck.preprocessing' metadata")
        }
    }
}
