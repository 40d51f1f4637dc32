@testable import BottleneckCache
import Foundation
import Testing

@Suite("Feature cache")
struct FeatureCacheTests {
    // MARK: Round trips

    @Test("float32 round trip is bit-exact, through the buffer and through shards")
    func float32RoundTrip() throws {
        let namespace = try Fixtures.namespace(dimension: 33)
        let cache = try FeatureCache.open(store: InMemoryObjectStore(), namespace: namespace,
                                          options: Fixtures.options(every: 40))
        for i in 0..<100 { #expect(try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 33))) }
        #expect(cache.statistics.shards == 2 && cache.statistics.bufferedVectors == 20)
        let found = try cache.lookup(Fixtures.hashes(0..<100))
        #expect(found.count == 100)
        for i in 0..<100 {
            #expect(found[Fixtures.hash(i)]!.map(\.bitPattern) == Fixtures.vector(i, dimension: 33).map(\.bitPattern))
        }
        #expect(try cache.vector(for: Fixtures.hash(1000)) == nil)
    }

    /// float16 keeps 11 significant bits: |stored - original| <= |original| x 2^-11 for normal values (and at most
    /// 2^-25 absolute for subnormals). The test values lie in [-4, 4).
    @Test("float16 round trip within 2^-11 relative error, half the bytes")
    func float16RoundTrip() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace(dimension: 64, dtype: .float16)
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options())
        for i in 0..<50 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 64)) }
        try cache.append(Fixtures.hash(50), [0, -0.0, 1e-7, -3e-6, 65504, -65504, 1, 0.1] + Array(repeating: 2, count: 56))
        try cache.close()
        let shard = try #require(store.keys.first { $0.hasSuffix(".bnks") })
        #expect(try store.get(shard)!.count == ShardFormat.size(count: 51, dimension: 64, dtype: .float16))
        let reopened = try FeatureCache.open(store: store, namespace: namespace)
        let found = try reopened.lookup(Fixtures.hashes(0..<51))
        var worst: Float = 0
        for i in 0..<50 {
            for (stored, original) in zip(found[Fixtures.hash(i)]!, Fixtures.vector(i, dimension: 64)) {
                let error = abs(stored - original)
                #expect(error <= max(abs(original) * 0x1p-11, 0x1p-25))
                if original != 0 { worst = max(worst, error / abs(original)) }
            }
        }
        #expect(worst > 0)  // it really is float16
        let special = found[Fixtures.hash(50)]!
        #expect(Array(special[0..<8]) == [0, 0, Float(Float16(1e-7)), Float(Float16(-3e-6)), 65504, -65504, 1,
                                          Float(Float16(0.1))])
        #expect(throws: CacheError.self) { try reopened.append(Fixtures.hash(99), [70000] + Array(repeating: 0, count: 63)) }
    }

    @Test("vectors are found after reopening a local folder, and only missing images need extracting")
    func reopenLocal() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let namespace = try Fixtures.namespace()
        let first = try FeatureCache.open(store: LocalDirectoryStore(root: folder.url), namespace: namespace)
        for i in 0..<30 { try first.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
        try first.close()
        #expect(throws: CacheError.self) { try first.append(Fixtures.hash(31), Fixtures.vector(31, dimension: 16)) }

        let second = try FeatureCache.open(store: LocalDirectoryStore(root: folder.url), namespace: namespace)
        #expect(second.count == 30 && second.problems.isEmpty)
        #expect(second.missing(from: Fixtures.hashes(25..<35) + Fixtures.hashes(33..<34)) == Fixtures.hashes(30..<35))
        let found = try second.lookup(Fixtures.hashes(0..<30))
        #expect(found.count == 30 && found[Fixtures.hash(7)] == Fixtures.vector(7, dimension: 16))
        #expect(try second.append(Fixtures.hash(3), Fixtures.vector(3, dimension: 16)) == false)  // already cached
        #expect(second.statistics.bufferedVectors == 0)
        // The layout on disk.
        let root = folder.url.appendingPathComponent(namespace.id)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("namespace.json").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("manifests").path)
                == ["\(first.writerID).json"])
    }

    @Test("opening to read writes nothing")
    func readOnlyOpen() throws {
        let store = InMemoryObjectStore()
        let cache = try FeatureCache.open(store: store, namespace: try Fixtures.namespace())
        #expect(cache.count == 0)
        try cache.flush()
        try cache.close()
        #expect(store.keys.isEmpty)
    }

    @Test("input validation: dimension, NaN, infinity, writer ids")
    func validation() throws {
        let cache = try FeatureCache.open(store: InMemoryObjectStore(), namespace: try Fixtures.namespace(dimension: 4))
        #expect(throws: CacheError.self) { try cache.append(Fixtures.hash(0), [1, 2, 3]) }
        #expect(throws: CacheError.self) { try cache.append(Fixtures.hash(0), [1, .nan, 3, 4]) }
        #expect(throws: CacheError.self) { try cache.append(Fixtures.hash(0), [1, 2, .infinity, 4]) }
        #expect(cache.count == 0)
        #expect(try cache.append(Fixtures.hash(0), [1, 2, 3, 4]))
        for bad in ["", ".hidden", "has space", "a/b", String(repeating: "x", count: 65)] {
            #expect(throws: CacheError.self, "\(bad)") {
                try FeatureCache.open(store: InMemoryObjectStore(), namespace: try Fixtures.namespace(),
                                      options: Fixtures.options(writer: bad))
            }
        }
    }

    // MARK: Keys

    @Test("a different namespace never sees another's vectors; namespaces share a root")
    func staleKeyIsolation() throws {
        let store = InMemoryObjectStore()
        let original = try Fixtures.namespace()
        let cache = try FeatureCache.open(store: store, namespace: original)
        for i in 0..<10 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
        try cache.close()
        let changed = [
            try Fixtures.namespace(fingerprint: String(repeating: "ef", count: 32)),  // new weights
            try Fixtures.namespace(preprocessing: #"{"input_size":240}"#),
            try Fixtures.namespace(tensor: "other_tensor"),
            try Fixtures.namespace(dtype: .float16),
        ]
        for namespace in changed {
            let other = try FeatureCache.open(store: store, namespace: namespace)
            #expect(other.count == 0)
            #expect(try other.lookup(Fixtures.hashes(0..<10)).isEmpty)
            try other.append(Fixtures.hash(0), Array(repeating: 1, count: 16))
            try other.close()
        }
        let again = try FeatureCache.open(store: store, namespace: original)
        #expect(try again.vector(for: Fixtures.hash(0)) == Fixtures.vector(0, dimension: 16))
        #expect(Set(store.keys.map { $0.split(separator: "/")[0] }).count == 5)
    }

    @Test("a namespace.json describing something else is a collision error")
    func namespaceCollision() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace()
        try store.put(namespace.id + "/namespace.json", Data(#"{"backbone":"other"}"#.utf8))
        #expect {
            try FeatureCache.open(store: store, namespace: namespace)
        } throws: { ($0 as? CacheError)?.code == .namespaceCollision }
    }

    // MARK: Damage

    /// Writes 3 shards of 10 vectors (images 0..<30) with writer "w".
    func threeShards(_ store: any ObjectStore, namespace: CacheNamespace) throws -> [String] {
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "w", every: 10))
        for i in 0..<30 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: namespace.dimension)) }
        try cache.close()
        return (1...3).map { "\(namespace.id)/shards/w-00000\($0).bnks" }
    }

    @Test("a flipped byte among the vectors: reported with its path, its images missing, the others fine")
    func damagedVectors() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = LocalDirectoryStore(root: folder.url)
        let namespace = try Fixtures.namespace()
        let keys = try threeShards(store, namespace: namespace)
        let file = folder.file(keys[1])
        var bytes = try Data(contentsOf: file)
        bytes[ShardFormat.indexSize(count: 10) + 100] ^= 0x01
        try bytes.write(to: file)

        let seen = LockedProblems()
        let options = FeatureCache.Options(onProblem: { seen.add($0) })
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: options)
        #expect(cache.problems.isEmpty && cache.count == 30)  // the index is intact; the vectors are read on demand
        let found = try cache.lookup(Fixtures.hashes(0..<30))
        #expect(Set(found.keys) == Set(Fixtures.hashes(0..<10) + Fixtures.hashes(20..<30)))
        let problem = try #require(cache.problems.first)
        #expect(cache.problems.count == 1 && seen.all == [problem])
        #expect(problem.location == file.path)
        #expect(problem.reason.hasPrefix("body checksum mismatch"))
        #expect(problem.lostVectors == 10)
        #expect(cache.missing(from: Fixtures.hashes(0..<30)) == Fixtures.hashes(10..<20))
        #expect(cache.statistics.damagedShards == 1)
        // Re-extracting them works, and the next runs are whole again whether the new copies' shard sorts after the
        // damaged one (the copy takes over when the damage is found) or before it (the copy is indexed first).
        for i in 10..<15 { #expect(try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16))) }
        try cache.close()
        let after = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "a"))
        #expect(after.missing(from: Fixtures.hashes(0..<30)).isEmpty)  // the index alone cannot tell
        #expect(try after.verify().map(\.lostVectors) == [5])          // reading every shard can
        #expect(after.missing(from: Fixtures.hashes(0..<30)) == Fixtures.hashes(15..<20))
        for i in 15..<20 { #expect(try after.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16))) }
        try after.close()
        #expect(cache.writerID > "w-" && "a" < "w-")
        let lookedUp = try FeatureCache.open(store: store, namespace: namespace)
        #expect(try lookedUp.lookup(Fixtures.hashes(0..<30)) == Dictionary(uniqueKeysWithValues: (0..<30).map {
            (Fixtures.hash($0), Fixtures.vector($0, dimension: 16)) }))
        #expect(lookedUp.problems.count == 1 && lookedUp.problems[0].lostVectors == 0)
        let next = try FeatureCache.open(store: store, namespace: namespace)
        #expect(next.count == 30)
        var streamed: [ImageHash: [Float]] = [:]
        try next.forEachVector { hash, vector in streamed[hash] = Array(vector) }
        #expect(streamed.count == 30 && (0..<30).allSatisfy { streamed[Fixtures.hash($0)] == Fixtures.vector($0, dimension: 16) })
        #expect(next.problems.count == 1)  // the damaged shard is still there and still reported
    }

    @Test("damage to a shard's header or index is found at open")
    func damagedIndex() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace()
        let keys = try threeShards(store, namespace: namespace)
        for (key, offset) in [(keys[0], 17), (keys[2], ShardFormat.headerSize + 40)] {
            var bytes = try store.get(key)!
            bytes[offset] ^= 0x80
            try store.put(key, bytes)
        }
        let cache = try FeatureCache.open(store: store, namespace: namespace)
        #expect(cache.problems.map(\.key) == [keys[0], keys[2]])
        #expect(cache.problems[0].reason.hasPrefix("header checksum mismatch"))
        #expect(cache.problems[1].reason.hasPrefix("index checksum mismatch"))
        #expect(cache.missing(from: Fixtures.hashes(0..<30)) == Fixtures.hashes(0..<10) + Fixtures.hashes(20..<30))
        #expect(try cache.lookup(Fixtures.hashes(0..<30)).count == 10)
    }

    @Test("truncated shards, a missing shard, a replaced shard and a garbage manifest are reported")
    func truncatedAndMissing() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = LocalDirectoryStore(root: folder.url)
        let namespace = try Fixtures.namespace()
        let keys = try threeShards(store, namespace: namespace)
        let extra = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "x"))
        for i in 30..<40 { try extra.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
        try extra.close()
        // Shard 1 loses its last bytes (a torn copy), shard 2 is cut inside its index, shard 3 disappears.
        let one = try FileHandle(forWritingTo: folder.file(keys[0]))
        try one.truncate(atOffset: UInt64(ShardFormat.size(count: 10, dimension: 16, dtype: .float32) - 7))
        try one.close()
        let two = try FileHandle(forWritingTo: folder.file(keys[1]))
        try two.truncate(atOffset: 100)
        try two.close()
        try FileManager.default.removeItem(at: folder.file(keys[2]))
        let cache = try FeatureCache.open(store: store, namespace: namespace)
        #expect(cache.count == 20)  // shard 1's index is intact: its loss shows when its vectors are read
        #expect(try cache.lookup(Fixtures.hashes(0..<40)).keys.sorted() == Fixtures.hashes(30..<40).sorted())
        let reasons = Dictionary(uniqueKeysWithValues: cache.problems.map { ($0.key, $0.reason) })
        #expect(reasons[keys[0]]?.hasPrefix("truncated: the file has") == true)
        #expect(reasons[keys[1]]?.hasPrefix("truncated: the file has 100 bytes") == true)
        #expect(reasons[keys[2]] == "the shard is listed in a manifest but the object does not exist")

        // A shard replaced by another valid shard of the namespace after its commit, and an unreadable manifest.
        let replacer = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "y"))
        for i in 40..<50 { try replacer.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
        try replacer.close()
        try store.put("\(namespace.id)/shards/y-000001.bnks",
                      try Data(contentsOf: folder.file("\(namespace.id)/shards/x-000001.bnks")))
        try store.put("\(namespace.id)/manifests/broken.json", Data("{ not json".utf8))
        let again = try FeatureCache.open(store: store, namespace: namespace)
        let problems = Dictionary(uniqueKeysWithValues: again.problems.map { ($0.key, $0) })
        #expect(problems["\(namespace.id)/manifests/broken.json"]?.lostVectors == 0)
        #expect(problems["\(namespace.id)/shards/y-000001.bnks"]?.reason.hasSuffix("it was replaced after it was committed") == true)
        #expect(problems["\(namespace.id)/shards/y-000001.bnks"]?.lostVectors == 10)
        #expect(again.missing(from: Fixtures.hashes(30..<50)) == Fixtures.hashes(40..<50))
    }

    @Test("half-written files and uncommitted shards are ignored")
    func uncommittedIgnored() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = LocalDirectoryStore(root: folder.url)
        let namespace = try Fixtures.namespace()
        let keys = try threeShards(store, namespace: namespace)
        let shards = folder.file("\(namespace.id)/shards")
        // A put interrupted before its rename, a shard uploaded but never committed, and stray files.
        try Data(repeating: 7, count: 500).write(to: shards.appendingPathComponent(".w-000004.bnks.abc.tmp"))
        try Data(contentsOf: folder.file(keys[0])).write(to: shards.appendingPathComponent("y-000001.bnks"))
        try Data("junk".utf8).write(to: shards.appendingPathComponent("junk.bnks"))
        try Data("{".utf8).write(to: folder.file("\(namespace.id)/manifests/.w.json.x1.tmp"))
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "w"))
        #expect(cache.problems.isEmpty && cache.count == 30 && cache.statistics.shards == 3)
        #expect(try cache.lookup(Fixtures.hashes(0..<30)).count == 30)
    }

    // MARK: Crashes

    @Test("a writer dropped without close keeps its flushed shards and loses only its buffer")
    func crashDropsBufferOnly() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace()
        do {
            let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(every: 10))
            for i in 0..<25 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
            // "killed": no flush, no close
        }
        let reopened = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(every: 10))
        #expect(reopened.problems.isEmpty)
        #expect(reopened.missing(from: Fixtures.hashes(0..<25)) == Fixtures.hashes(20..<25))
        for hash in reopened.missing(from: Fixtures.hashes(0..<25)) {
            let i = (0..<25).first { Fixtures.hash($0) == hash }!
            try reopened.append(hash, Fixtures.vector(i, dimension: 16))
        }
        try reopened.close()
        #expect(try FeatureCache.open(store: store, namespace: namespace).lookup(Fixtures.hashes(0..<25)).count == 25)
    }

    @Test("the time bound flushes old vectors")
    func flushInterval() throws {
        let store = InMemoryObjectStore()
        let cache = try FeatureCache.open(store: store, namespace: try Fixtures.namespace(),
                                          options: FeatureCache.Options(flushInterval: .milliseconds(50)))
        try cache.append(Fixtures.hash(0), Fixtures.vector(0, dimension: 16))
        try cache.flushIfDue()
        #expect(cache.statistics.bufferedVectors == 1)
        Thread.sleep(forTimeInterval: 0.08)
        try cache.flushIfDue()
        #expect(cache.statistics.bufferedVectors == 0 && cache.statistics.shards == 1)
        try cache.append(Fixtures.hash(1), Fixtures.vector(1, dimension: 16))
        Thread.sleep(forTimeInterval: 0.08)
        try cache.append(Fixtures.hash(2), Fixtures.vector(2, dimension: 16))  // the oldest is due: flushes both
        #expect(cache.statistics.bufferedVectors == 0 && cache.statistics.shards == 2)
    }

    @Test("killed between uploading a shard and committing it: the shard is ignored, the rerun completes")
    func crashBeforeManifest() throws {
        let store = RecordingStore(InMemoryObjectStore())
        let namespace = try Fixtures.namespace()
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "job", every: 10))
        for i in 0..<10 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
        store.failPuts(containing: "manifests/")
        for i in 10..<19 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
        #expect(throws: CacheError.self) { try cache.append(Fixtures.hash(19), Fixtures.vector(19, dimension: 16)) }
        // The orphan shard exists but no manifest lists it.
        #expect(try store.get("\(namespace.id)/shards/job-000002.bnks") != nil)
        store.failPuts(containing: nil)

        // The rerun uses the same writer id: it continues the manifest and does not reuse the orphan's name.
        let rerun = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "job"))
        #expect(rerun.problems.isEmpty)
        let missing = rerun.missing(from: Fixtures.hashes(0..<20))
        #expect(missing == Fixtures.hashes(10..<20))
        for i in 10..<20 { try rerun.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
        try rerun.close()
        let manifest = try WriterManifest.decode(
            try #require(try store.get("\(namespace.id)/manifests/job.json")), namespace: namespace, writer: "job").get()
        #expect(manifest.shards.map(\.name) == ["job-000001.bnks", "job-000003.bnks"])
        #expect(try FeatureCache.open(store: store, namespace: namespace).lookup(Fixtures.hashes(0..<20)).count == 20)
    }

    // MARK: Shards and writers

    @Test("appending past the size bound rolls over to new shards no larger than the bound")
    func boundedShards() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace(dimension: 32)
        let bound = 4096
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(maxShardBytes: bound))
        #expect(cache.shardCapacity == (bound - 80) / (32 + 128))  // 25 vectors
        for i in 0..<100 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 32)) }
        #expect(cache.statistics.shards == 4 && cache.statistics.bufferedVectors == 0)
        try cache.close()
        let sizes = try store.keys.filter { $0.hasSuffix(".bnks") }.map { try store.get($0)!.count }
        #expect(sizes.count == 4 && sizes.allSatisfy { $0 <= bound })
        #expect(try FeatureCache.open(store: store, namespace: namespace).lookup(Fixtures.hashes(0..<100)).count == 100)
    }

    @Test("two writers at once: each commits its own manifest, readers see the union")
    func concurrentWriters() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let namespace = try Fixtures.namespace()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (writer, range) in [("alpha", 0..<300), ("beta", 200..<500)] {
                group.addTask {
                    let cache = try FeatureCache.open(store: LocalDirectoryStore(root: folder.url), namespace: namespace,
                                                      options: Fixtures.options(writer: writer, every: 37))
                    for i in range { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 16)) }
                    try cache.close()
                }
            }
            try await group.waitForAll()
        }
        let reader = try FeatureCache.open(store: LocalDirectoryStore(root: folder.url), namespace: namespace)
        #expect(reader.statistics.manifests == 2 && reader.problems.isEmpty)
        #expect(reader.count == 500)
        let found = try reader.lookup(Fixtures.hashes(0..<500))
        #expect(found.count == 500)
        #expect((0..<500).allSatisfy { found[Fixtures.hash($0)] == Fixtures.vector($0, dimension: 16) })
        var streamed = Set<ImageHash>(), total = 0
        try reader.forEachVector { hash, _ in streamed.insert(hash); total += 1 }
        #expect(total == 500 && streamed.count == 500)  // images both wrote are delivered once
    }

    @Test("one cache shared by worker threads: every append lands once")
    func sharedByThreads() async throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace()
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(every: 50))
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var added = 0
                    // Workers overlap by half: each image is offered twice, stored once.
                    for i in worker * 500..<worker * 500 + 1000 where try cache.append(Fixtures.hash(i % 2000),
                                                                                     Fixtures.vector(i % 2000, dimension: 16)) {
                        added += 1
                    }
                    return added
                }
            }
            var total = 0
            for try await added in group { total += added }
            #expect(total == 2000)
        }
        try cache.close()
        let reopened = try FeatureCache.open(store: store, namespace: namespace)
        #expect(reopened.count == 2000 && reopened.statistics.shards == 40)
        #expect(try reopened.lookup(Fixtures.hashes(0..<2000)).count == 2000)
    }

    @Test("N sharded runs store exactly what one run stores")
    func shardedRunsEqualOneRun() throws {
        let namespace = try Fixtures.namespace(dimension: 24)
        let images = Array(0..<600)
        let single = InMemoryObjectStore()
        let one = try FeatureCache.open(store: single, namespace: namespace, options: Fixtures.options(every: 64))
        for i in images { try one.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 24)) }
        try one.close()

        let sharded = InMemoryObjectStore()
        var owned: [[ImageHash]] = []
        for index in 0..<3 {
            let assignment = try ShardAssignment(index: index, count: 3)
            let cache = try FeatureCache.open(store: sharded, namespace: namespace,
                                              options: Fixtures.options(writer: "shard-\(index)-of-3", every: 64))
            var mine: [ImageHash] = []
            for i in images where assignment.owns(Fixtures.hash(i)) {
                try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 24))
                mine.append(Fixtures.hash(i))
            }
            try cache.close()
            owned.append(mine)
        }
        #expect(Set(owned.flatMap { $0 }).count == 600 && owned.map(\.count).reduce(0, +) == 600)

        func contents(_ store: any ObjectStore) throws -> [ImageHash: [UInt32]] {
            var result: [ImageHash: [UInt32]] = [:]
            try FeatureCache.open(store: store, namespace: namespace).forEachVector { hash, vector in
                #expect(result.updateValue(vector.map(\.bitPattern), forKey: hash) == nil)
            }
            return result
        }
        let expected = try contents(single)
        #expect(expected.count == 600)
        #expect(try contents(sharded) == expected)
        // The union of the three manifests' shards holds exactly the image set.
        var committed = Set<ImageHash>()
        for key in try sharded.list(prefix: "\(namespace.id)/manifests/") {
            let writer = String(key.split(separator: "/").last!.dropLast(5))
            let manifest = try WriterManifest.decode(sharded.get(key)!, namespace: namespace, writer: writer).get()
            for shard in manifest.shards {
                let bytes = try sharded.get("\(namespace.id)/shards/\(shard.name)")!
                try bytes.withUnsafeBytes { raw in
                    committed.formUnion(try ShardFormat.verify(raw, namespace: namespace, entry: shard).1)
                }
            }
        }
        #expect(committed == Set(images.map(Fixtures.hash)))
    }

    @Test("streaming reads one shard at a time, in order, with every vector once")
    func streaming() throws {
        let store = RecordingStore(InMemoryObjectStore())
        let namespace = try Fixtures.namespace(dimension: 64)
        let bound = 16 << 10
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(maxShardBytes: bound))
        for i in 0..<1000 { try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 64)) }
        let reader = try FeatureCache.open(store: store, namespace: namespace)  // sees only committed shards
        try cache.close()
        store.clearEvents()
        var seen = Set<ImageHash>(), batches = 0
        var iterator = reader.makeBatchIterator()
        while let batch = try iterator.next() {
            batches += 1
            store.record("batch \(batch.count)")
            #expect(batch.count <= cache.shardCapacity && batch.values.count == batch.count * 64)
            for row in 0..<batch.count {
                #expect(seen.insert(batch.hashes[row]).inserted)
                #expect(batch.vector(at: row).count == 64)
            }
        }
        let shardCount = reader.statistics.shards
        #expect(shardCount > 10 && batches == shardCount && seen.count == reader.count)
        // Each shard is read (whole, at most the bound) right before its batch, never ahead.
        let events = store.events
        #expect(events.count == 2 * shardCount)
        for (position, event) in events.enumerated() {
            if position % 2 == 0 {
                #expect(event.hasPrefix("get ") && Int(event.split(separator: " ").last!)! <= bound)
            } else {
                #expect(event.hasPrefix("batch "))
            }
        }
        // The buffer comes last.
        let writer = try FeatureCache.open(store: store, namespace: namespace)
        try writer.append(Fixtures.hash(5000), Fixtures.vector(5000, dimension: 64))
        var last: FeatureBatch?
        try writer.forEachBatch { last = $0 }
        #expect(last?.source == "buffer" && last?.hashes == [Fixtures.hash(5000)])
    }

    @Test("verify reads every shard and reports the damaged ones")
    func verify() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace()
        let keys = try threeShards(store, namespace: namespace)
        var bytes = try store.get(keys[2])!
        bytes[bytes.count - 20] ^= 0xFF
        try store.put(keys[2], bytes)
        let cache = try FeatureCache.open(store: store, namespace: namespace)
        let found = try cache.verify()
        #expect(found.map(\.key) == [keys[2]] && found[0].lostVectors == 10)
        #expect(try cache.verify().isEmpty)  // reported once
        #expect(cache.count == 20)
    }
}

/// Collects problems reported through `onProblem`.
final class LockedProblems: @unchecked Sendable {
    private let lock = NSLock()
    private var problems: [CacheProblem] = []
    func add(_ problem: CacheProblem) { lock.withLock { problems.append(problem) } }
    var all: [CacheProblem] { lock.withLock { problems } }
}
