import BottleneckCache
import BottleneckExtraction
import Foundation
import Testing

/// The Lambda extraction mode against moto's S3 on 127.0.0.1, with the real EfficientNet-Lite0 backbone.
@Suite("Batch extraction from S3 (moto server)", .serialized,
       .enabled(if: LocalS3Server.isAvailable, "needs .venv/bin/python with moto[server] and boto3 (make venv)"))
struct BatchExtractorTests {
    /// Uploads `images/<class>/*.png` of a local folder to `s3://images/photos/...`; returns the keys and bytes.
    func upload(_ folder: URL, server: LocalS3Server) throws -> [(key: String, bytes: Data)] {
        let store = try S3ObjectStore(bucket: "images", prefix: "photos", environment: server.environment)
        var uploaded: [(key: String, bytes: Data)] = []
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }
        for relative in files.sorted() {
            let bytes = try Data(contentsOf: folder.appendingPathComponent(relative))
            try store.put(relative, bytes)
            uploaded.append(("photos/" + relative, bytes))
        }
        return uploaded
    }

    /// The JSON a Distributed Map child receives from an S3 listObjectsV2 ItemReader and an ItemBatcher.
    func batch(_ objects: [(key: String, size: Int)]) throws -> S3ItemBatch {
        let items = objects.map { object in
            #"{"Etag": "\"0123456789abcdef0123456789abcdef\"", "Key": "\#(object.key)", "#
                + #""LastModified": 1764070000, "Size": \#(object.size)}"#
        }
        let json = #"{"Items": ["# + items.joined(separator: ", ") + #"], "BatchInput": {"Bucket": "images"}}"#
        return try S3ItemBatch(json: Data(json.utf8))
    }

    func configuration(_ server: LocalS3Server, cache: String = "s3://features/cache") throws
        -> BatchExtractor.Configuration {
        BatchExtractor.Configuration(model: try ExtractionFixtures.model, cache: try CacheLocation(parsing: cache),
                                     threads: 2, environment: server.environment)
    }

    @Test("a batch fills the cache that extract reads, with FeatureExtractor's vectors; reruns find them cached")
    func batchMatchesFeatureExtractor() throws {
        let server = try LocalS3Server(buckets: ["images", "features"])
        defer { server.stop() }
        let root = try ExtractionFixtures.temporaryFolder("batch")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try ExtractionFixtures.writeImages(into: data, classes: ["circle", "square"], perClass: 3)
        let uploaded = try upload(data, server: server)
        #expect(uploaded.count == 6)
        let store = try S3ObjectStore(bucket: "images", prefix: "photos", environment: server.environment)
        let whole = try ExtractionFixtures.png(seed: 4242)
        try store.put("circle/truncated.png", Data(whole.prefix(whole.count / 2)))
        try store.put("notes.txt", Data("not an image".utf8))
        let batch = try batch(uploaded.map { ($0.key, $0.bytes.count) }
            + [("photos/circle/truncated.png", whole.count / 2), ("photos/notes.txt", 12),
               ("photos/deleted.png", 100), ("photos/huge.png", 64 << 20)])
        #expect(batch.batchInput.bucket == "images" && batch.items.count == 10)
        #expect(batch.items[0].etag == "\"0123456789abcdef0123456789abcdef\"" && batch.items[0].size != nil)

        let extractor = try BatchExtractor(configuration: try configuration(server))
        // Opened before anything is written; it reopens the cache at every batch.
        var refreshing = try configuration(server)
        refreshing.cacheRefreshInterval = .zero
        let refreshingExtractor = try BatchExtractor(configuration: refreshing)
        let first = try extractor.run(batch)
        #expect((first.processed, first.computed, first.alreadyCached) == (10, 6, 0), "\(first)")
        let failed = Dictionary(uniqueKeysWithValues: first.failed.map { ($0.key, $0.reason) })
        #expect(Set(failed.keys)
                == ["photos/circle/truncated.png", "photos/notes.txt", "photos/deleted.png", "photos/huge.png"])
        #expect(failed["photos/circle/truncated.png"]?.contains("s3://images/photos/circle/truncated.png") == true)
        #expect(failed["photos/deleted.png"]?.contains("no longer exists") == true)
        // Refused from its listed size (32 MiB by default), without downloading it: there is no such object.
        #expect(failed["photos/huge.png"]?.contains("more than the limit") == true)
        // The summary is what the Lambda returns: it must survive JSON.
        let encoded = try JSONEncoder().encode(first)
        #expect(try JSONDecoder().decode(BatchExtractionSummary.self, from: encoded) == first)

        // The same environment again, a new one (another Lambda), and one opened before the first batch that
        // reopens the cache (without reopening it would compute all 6 again): every image is found in the cache.
        let again = try extractor.run(batch)
        #expect((again.processed, again.computed, again.alreadyCached, again.failed.count) == (10, 0, 6, 4))
        let other = try BatchExtractor(configuration: try configuration(server)).run(batch)
        #expect((other.computed, other.alreadyCached) == (0, 6))
        #expect(other.writer != first.writer && other.namespace == first.namespace)
        let refreshed = try refreshingExtractor.run(batch)
        #expect((refreshed.computed, refreshed.alreadyCached) == (0, 6))

        // `bottleneck extract` over local copies of the same images finds every vector in that S3 cache...
        var options = ExtractionOptions(data: data, model: try ExtractionFixtures.model,
                                        cache: try CacheLocation(parsing: "s3://features/cache"), threads: 2,
                                        environment: server.environment)
        let fromS3 = try FeatureExtractor(options: options)
        let reused = try fromS3.run()
        #expect((reused.extracted, reused.reused) == (0, 6))
        // ...and they are the vectors it computes itself, bit for bit: the same bytes go through the same decoder,
        // preprocessing and one-thread session, so no tolerance is needed.
        options.cache = .directory(root.appendingPathComponent("local-cache"))
        let local = try FeatureExtractor(options: options)
        #expect(try local.run().extracted == 6)
        let hashes = try local.assignedImages().map(\.hash)
        let (expected, actual) = (try local.cache.lookup(hashes), try fromS3.cache.lookup(hashes))
        #expect(expected.count == 6 && actual.count == 6)
        for hash in hashes {
            #expect(actual[hash]?.map(\.bitPattern) == expected[hash]?.map(\.bitPattern), "vector of \(hash)")
        }
    }

    @Test("a cache that cannot be written fails the batch")
    func cacheWriteFailureFailsTheBatch() throws {
        let server = try LocalS3Server(buckets: ["images", "features"])
        defer { server.stop() }
        let root = try ExtractionFixtures.temporaryFolder("unwritable")
        defer { try? FileManager.default.removeItem(at: root) }
        try ExtractionFixtures.writeImages(into: root, classes: ["a"], perClass: 2)
        let uploaded = try upload(root, server: server)
        let extractor = try BatchExtractor(configuration: try configuration(server))
        try server.deleteBucket("features")
        #expect {
            _ = try extractor.run(try batch(uploaded.map { ($0.key, $0.bytes.count) }))
        } throws: { error in
            "\(error)".contains("s3://features/cache/")
        }
    }

    @Test("a cancelled batch throws and says that running it again finishes it")
    func cancellationThrows() throws {
        let server = try LocalS3Server(buckets: ["images", "features"])
        defer { server.stop() }
        let root = try ExtractionFixtures.temporaryFolder("cancel")
        defer { try? FileManager.default.removeItem(at: root) }
        try ExtractionFixtures.writeImages(into: root, classes: ["a"], perClass: 2)
        let uploaded = try upload(root, server: server)
        let extractor = try BatchExtractor(configuration: try configuration(server))
        #expect {
            _ = try extractor.run(try batch(uploaded.map { ($0.key, $0.bytes.count) })) { true }
        } throws: { error in
            "\(error)".contains("stopped after 0 of the batch's 2 objects")
        }
    }
}

/// The extraction mode's settings from a Lambda environment, and its events.
@Suite struct BatchExtractorConfigurationTests {
    @Test func anEventThatIsNotAnItemBatchIsRefusedWithWhatIsMissing() throws {
        #expect {
            _ = try S3ItemBatch(json: Data(#"{"Items": [{"Key": "a.jpg"}]}"#.utf8))
        } throws: { "\($0)".contains("it has no BatchInput") && "\($0)".contains("ItemBatcher") }
        #expect {
            _ = try S3ItemBatch(json: Data(#"{"Items": [{"Size": 3}], "BatchInput": {"Bucket": "b"}}"#.utf8))
        } throws: { "\($0)".contains("it has no Items[0].Key") }
        let batch = try S3ItemBatch(json: Data(#"{"Items": [], "BatchInput": {"Bucket": "b", "Other": 1}}"#.utf8))
        #expect(batch == S3ItemBatch(items: [], batchInput: .init(bucket: "b")))
    }

    @Test func readsTheLambdaEnvironment() throws {
        let configuration = try BatchExtractor.Configuration(environment: [
            "BOTTLENECK_CACHE": "s3://features/cache", "LAMBDA_TASK_ROOT": "/var/task", "BOTTLENECK_THREADS": "3",
            "BOTTLENECK_DTYPE": "float16",
        ])
        #expect(configuration.cache == .s3(bucket: "features", prefix: "cache"))
        #expect(configuration.model.path == "/var/task/model.onnx")
        #expect((configuration.threads, configuration.downloads, configuration.dtype) == (3, 4, .float16))
        #expect(configuration.tensor == nil)
    }

    @Test func namesTheVariableThatIsMissingOrMalformed() {
        #expect {
            _ = try BatchExtractor.Configuration(environment: ["LAMBDA_TASK_ROOT": "/var/task"])
        } throws: { "\($0)".contains("BOTTLENECK_CACHE is not set") }
        #expect {
            _ = try BatchExtractor.Configuration(environment: ["BOTTLENECK_CACHE": "s3://features/c",
                                                               "BOTTLENECK_MODEL": "/m.onnx",
                                                               "BOTTLENECK_DOWNLOADS": "0"])
        } throws: { "\($0)".contains("BOTTLENECK_DOWNLOADS='0' is not a positive whole number") }
        #expect {
            _ = try BatchExtractor.Configuration(environment: ["BOTTLENECK_CACHE": "s3://features/c"])
        } throws: { "\($0)".contains("neither BOTTLENECK_MODEL nor LAMBDA_TASK_ROOT") }
    }
}
