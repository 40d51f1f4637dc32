import Foundation

/// Bottleneck vectors keyed by image content inside one ``CacheNamespace``, in any ``ObjectStore``.
///
/// Writing: ``append(_:_:)-(ImageHash,[Float])`` buffers vectors; the buffer becomes an immutable shard when it
/// reaches the shard size bound, ``Options/flushEveryVectors``, or ``Options/flushInterval``, and at ``flush()`` and
/// ``close()``. A shard is committed by uploading it and then rewriting this writer's manifest, so a run killed at
/// any moment loses at most its unflushed buffer; the next run finds everything committed and extracts the rest.
/// Dropping a cache without `close()` loses the buffer the same way (there is no flush in `deinit`).
///
/// Reading: ``open(store:namespace:options:)`` reads every manifest and the header and index of every shard (the
/// hashes, not the vectors). Vectors are read a whole shard at a time and checked against their checksums;
/// a damaged shard is reported in ``problems`` and its vectors are treated as missing from then on.
///
/// Writers: each cache object writes as one writer (``writerID``); several processes or machines may write the same
/// namespace at once as long as their writer ids differ. Reopening with the id of a finished or crashed writer
/// continues its manifest. When two shards hold the same image, the one whose key sorts first wins.
///
/// All methods are thread-safe.
public final class FeatureCache: @unchecked Sendable {
    public struct Options: Sendable {
        /// This writer's id: letters, digits, `.`, `_`, `-`, at most 64 characters. nil picks a random one.
        public var writerID: String?
        /// Upper bound of a shard file's size; the buffer is flushed when one more vector would not fit.
        public var maxShardBytes: Int
        /// Also flush after this many buffered vectors.
        public var flushEveryVectors: Int?
        /// Also flush when the oldest buffered vector is this old (checked on `append` and ``flushIfDue()``).
        public var flushInterval: Duration?
        /// Called for each problem as it is found, e.g. to print a warning.
        public var onProblem: (@Sendable (CacheProblem) -> Void)?

        public init(writerID: String? = nil, maxShardBytes: Int = 64 << 20, flushEveryVectors: Int? = nil,
                    flushInterval: Duration? = .seconds(60), onProblem: (@Sendable (CacheProblem) -> Void)? = nil) {
            self.writerID = writerID
            self.maxShardBytes = maxShardBytes
            self.flushEveryVectors = flushEveryVectors
            self.flushInterval = flushInterval
            self.onProblem = onProblem
        }
    }

    /// Counts for reports.
    public struct Statistics: Sendable, Equatable {
        /// Distinct images with a vector in a usable committed shard.
        public var committedVectors: Int
        /// Vectors appended but not yet flushed.
        public var bufferedVectors: Int
        /// Committed shards not found damaged.
        public var shards: Int
        public var damagedShards: Int
        /// Writer manifests read at open (plus this writer's, once it has committed).
        public var manifests: Int
    }

    public let store: any ObjectStore
    public let namespace: CacheNamespace
    public let writerID: String
    /// Vectors per shard under ``Options/maxShardBytes``.
    public let shardCapacity: Int
    private let options: Options
    private let prefix: String

    struct Location: Equatable {
        var shard: Int32
        var record: Int32
    }

    private struct Shard {
        let key: String
        let entry: ShardEntry
        var usable: Bool
    }

    private let lock = NSLock()
    private var shards: [Shard] = []
    private var index: [ImageHash: Location] = [:]
    /// Further copies of images already in `index` (concurrent writers, re-extraction after damage); a copy takes
    /// over when the indexed shard turns out damaged.
    private var alternates: [ImageHash: [Location]] = [:]
    private var pendingHashes: [ImageHash] = []
    private var pendingSlots: [ImageHash: Int] = [:]
    private var pendingBytes: [UInt8] = []
    private var oldestPending: ContinuousClock.Instant?
    private var manifest: WriterManifest
    private var manifestCount = 0
    private var nextSequence = 1
    private var namespaceRecorded = false
    private var problemList: [CacheProblem] = []
    private var isClosed = false

    // MARK: - Opening

    /// Opens the namespace in `store` for reading and writing. Nothing is written until the first flush with
    /// vectors, so opening only to read leaves the store untouched.
    ///
    /// Throws when the store cannot be read or another namespace uses the same id; damaged manifests and shards
    /// are not errors but ``problems``.
    public static func open(store: any ObjectStore, namespace: CacheNamespace, options: Options = Options()) throws
        -> FeatureCache {
        try FeatureCache(store: store, namespace: namespace, options: options)
    }

    private init(store: any ObjectStore, namespace: CacheNamespace, options: Options) throws {
        let writerID = options.writerID ?? "w" + String(UUID().uuidString.replacingOccurrences(of: "-", with: "")
                                                            .lowercased().prefix(16))
        guard Self.isValidWriterID(writerID) else {
            throw CacheError(.invalidWriterID, "'\(writerID)' is not a valid writer id: use 1 to 64 letters, digits, "
                             + "'.', '_' or '-', not starting with '.'")
        }
        guard options.maxShardBytes > 0, (options.flushEveryVectors ?? 1) > 0 else {
            throw CacheError(.invalidNamespace, "the shard size bound and flush count must be positive")
        }
        self.store = store
        self.namespace = namespace
        self.writerID = writerID
        self.options = options
        self.prefix = namespace.id + "/"
        self.shardCapacity = ShardFormat.capacity(maxBytes: options.maxShardBytes, dimension: namespace.dimension,
                                                  dtype: namespace.dtype)
        self.manifest = WriterManifest(namespace: namespace, writer: writerID)

        // The namespace descriptor: absent in a new namespace, equal to ours otherwise.
        let descriptorKey = prefix + "namespace.json"
        if let recorded = try store.get(descriptorKey) {
            let text = String(decoding: recorded, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text == namespace.descriptor else {
                throw CacheError(.namespaceCollision, "\(store.location(of: descriptorKey)) describes another "
                                 + "namespace than \(namespace.descriptor); move that folder away or use another cache")
            }
            namespaceRecorded = true
        } else {
            namespaceRecorded = false
        }

        // Manifests, in writer order.
        var entries: [(key: String, entry: ShardEntry)] = []
        var ownManifest: WriterManifest?
        let manifestKeys = try store.list(prefix: prefix + "manifests/").filter { $0.hasSuffix(".json") }.sorted()
        for key in manifestKeys {
            let writer = String(key.dropFirst(prefix.count + "manifests/".count).dropLast(".json".count))
            guard Self.isValidWriterID(writer) else { continue }  // not a manifest this format writes
            guard let data = try store.get(key) else { continue }  // deleted since listing
            switch WriterManifest.decode(data, namespace: namespace, writer: writer) {
            case .failure(let damage):
                problemList.append(CacheProblem(key: key, location: store.location(of: key), reason: damage.reason,
                                                lostVectors: 0))
            case .success(let decoded):
                manifestCount += 1
                if writer == writerID { ownManifest = decoded }
                for entry in decoded.shards { entries.append((prefix + "shards/" + entry.name, entry)) }
            }
        }
        var seenKeys = Set<String>()
        entries = entries.filter { seenKeys.insert($0.key).inserted }.sorted { $0.key < $1.key }

        // Shard indexes: header and hashes only, read concurrently.
        let results = Self.concurrentMap(entries) { key, entry -> Result<[ImageHash], ShardDamage> in
            let length = ShardFormat.indexSize(count: entry.count)
            guard let bytes = try store.get(key, range: 0..<length) else { return .failure(.missing) }
            return bytes.withUnsafeBytes { raw in
                Result { () throws(ShardDamage) in
                    try ShardFormat.readIndex(raw, namespace: namespace, entry: entry).1
                }
            }
        }
        for (position, result) in results.enumerated() {
            let (key, entry) = entries[position]
            switch try result.get() {
            case .failure(let damage):
                shards.append(Shard(key: key, entry: entry, usable: false))
                problemList.append(CacheProblem(key: key, location: store.location(of: key),
                                                reason: damage.description, lostVectors: entry.count))
            case .success(let hashes):
                let shardNumber = Int32(shards.count)
                shards.append(Shard(key: key, entry: entry, usable: true))
                for (record, hash) in hashes.enumerated() {
                    insert(hash, at: Location(shard: shardNumber, record: Int32(record)))
                }
            }
        }

        // This writer continues its own manifest, after any sequence number already used (committed or not).
        if let ownManifest { manifest = ownManifest }
        var highest = manifest.shards.compactMap { Self.sequence(ofShard: $0.name, writer: writerID) }.max() ?? 0
        for key in try store.list(prefix: prefix + "shards/" + writerID + "-") {
            let name = String(key.dropFirst(prefix.count + "shards/".count))
            if let sequence = Self.sequence(ofShard: name, writer: writerID) { highest = max(highest, sequence) }
        }
        nextSequence = highest + 1
        if let onProblem = options.onProblem { problemList.forEach(onProblem) }
    }

    // MARK: - Reading

    /// Whether a vector for `hash` is committed or buffered (and not known to be damaged).
    public func contains(_ hash: ImageHash) -> Bool {
        lock.withLock { pendingSlots[hash] != nil || index[hash] != nil }
    }

    /// The hashes of `hashes` that have no vector, in their first order, each once: what the pipeline must extract.
    public func missing(from hashes: some Sequence<ImageHash>) -> [ImageHash] {
        lock.withLock {
            var seen = Set<ImageHash>()
            return hashes.filter { pendingSlots[$0] == nil && index[$0] == nil && seen.insert($0).inserted }
        }
    }

    /// The vectors of those `hashes` that have one. Reads each shard involved once, whole, and checks it; the
    /// vectors of a damaged shard are left out (and reported in ``problems``).
    public func lookup(_ hashes: some Sequence<ImageHash>) throws -> [ImageHash: [Float]] {
        var result: [ImageHash: [Float]] = [:]
        var requests: [(ImageHash, Location)] = []
        lock.withLock {
            for hash in hashes where result[hash] == nil {
                if let slot = pendingSlots[hash] {
                    result[hash] = decodePending(slot)
                } else if let location = index[hash] {
                    requests.append((hash, location))
                }
            }
        }
        try readVectors(requests) { hash, vector in result[hash] = vector }
        return result
    }

    /// The vector of `hash`, or nil.
    public func vector(for hash: ImageHash) throws -> [Float]? {
        try lookup(CollectionOfOne(hash))[hash]
    }

    /// Streams every vector shard by shard: committed shards in key order, then the buffer; one shard in memory at
    /// a time. Each image is delivered once; damaged shards are skipped and reported.
    public func forEachBatch(_ body: (FeatureBatch) throws -> Void) throws {
        var iterator = makeBatchIterator()
        while let batch = try iterator.next() { try body(batch) }
    }

    /// ``forEachBatch(_:)`` one vector at a time.
    public func forEachVector(_ body: (ImageHash, ArraySlice<Float>) throws -> Void) throws {
        try forEachBatch { batch in
            for i in 0..<batch.count { try body(batch.hashes[i], batch.vector(at: i)) }
        }
    }

    /// An iterator over the batches of ``forEachBatch(_:)``, for training loops that pull.
    public func makeBatchIterator() -> BatchIterator { BatchIterator(cache: self) }

    /// Pulls one ``FeatureBatch`` per shard, then one for the buffer.
    ///
    /// Each image is delivered once, from the shard the index points at when that shard is visited. Copies of an
    /// image always sit in later shards than the indexed one (shards are numbered in key order at open, and new
    /// ones are appended), and shards are visited in number order, so when the indexed copy turns out damaged the
    /// copy that takes over is still ahead.
    public struct BatchIterator {
        let cache: FeatureCache
        var nextShard = 0
        var bufferDone = false

        public mutating func next() throws -> FeatureBatch? {
            while let shardNumber = cache.nextUsableShard(from: nextShard) {
                nextShard = shardNumber + 1
                if let batch = try cache.batch(ofShard: shardNumber) { return batch }
            }
            if bufferDone { return nil }
            bufferDone = true
            return cache.bufferBatch()
        }
    }

    /// Reads and checks every usable shard; returns the problems found by this call.
    @discardableResult
    public func verify() throws -> [CacheProblem] {
        let before = lock.withLock { problemList.count }
        var shardNumber = 0
        while let next = nextUsableShard(from: shardNumber) {
            _ = try loadShard(next)
            shardNumber = next + 1
        }
        return lock.withLock { Array(problemList[before...]) }
    }

    /// Damaged or missing shards and unreadable manifests found so far.
    public var problems: [CacheProblem] { lock.withLock { problemList } }

    public var statistics: Statistics {
        lock.withLock {
            let usable = shards.filter(\.usable).count
            return Statistics(committedVectors: index.count, bufferedVectors: pendingHashes.count, shards: usable,
                              damagedShards: shards.count - usable, manifests: manifestCount)
        }
    }

    /// Committed plus buffered vectors.
    public var count: Int { lock.withLock { index.count + pendingHashes.count } }

    // MARK: - Writing

    /// Buffers the vector of an image. Returns false (and stores nothing) when the image already has a vector in
    /// this cache. May flush, so may throw store errors; throws for a wrong length or a NaN or infinite value.
    @discardableResult
    public func append(_ hash: ImageHash, _ vector: [Float]) throws -> Bool {
        try vector.withUnsafeBufferPointer { try append(hash, $0) }
    }

    @discardableResult
    public func append(_ hash: ImageHash, _ vector: UnsafeBufferPointer<Float>) throws -> Bool {
        try lock.withLock {
            guard !isClosed else { throw CacheError(.closed, "the feature cache was closed; open it again to append") }
            guard vector.count == namespace.dimension else {
                throw CacheError(.dimensionMismatch, "a vector of \(vector.count) values does not fit namespace "
                                 + "\(namespace.id), whose vectors have \(namespace.dimension)")
            }
            if pendingSlots[hash] != nil || index[hash] != nil { return false }
            if pendingHashes.count >= shardCapacity { try flushLocked() }  // only after a failed flush
            if pendingBytes.isEmpty {
                pendingBytes.reserveCapacity(shardCapacity * namespace.dimension * namespace.dtype.byteWidth)
            }
            let mark = pendingBytes.count
            do {
                try namespace.dtype.encode(vector, into: &pendingBytes)
            } catch {
                pendingBytes.removeSubrange(mark...)
                throw error
            }
            pendingSlots[hash] = pendingHashes.count
            pendingHashes.append(hash)
            let now = ContinuousClock.now
            if oldestPending == nil { oldestPending = now }
            if pendingHashes.count >= shardCapacity
                || pendingHashes.count >= (options.flushEveryVectors ?? .max)
                || isDue(now: now) {
                try flushLocked()
            }
            return true
        }
    }

    /// Writes the buffer as a shard and commits it. Does nothing when the buffer is empty.
    public func flush() throws {
        try lock.withLock {
            guard !isClosed else { throw CacheError(.closed, "the feature cache was closed") }
            try flushLocked()
        }
    }

    /// Flushes when the oldest buffered vector is older than ``Options/flushInterval``; for pipelines to call while
    /// they wait.
    public func flushIfDue() throws {
        try lock.withLock {
            if !isClosed, isDue(now: .now) { try flushLocked() }
        }
    }

    /// Flushes and stops writing. Reading still works. Closing twice is harmless.
    public func close() throws {
        try lock.withLock {
            guard !isClosed else { return }
            try flushLocked()
            isClosed = true
        }
    }

    // MARK: - Internals

    private func isDue(now: ContinuousClock.Instant) -> Bool {
        guard let interval = options.flushInterval, let oldestPending else { return false }
        return now - oldestPending >= interval
    }

    /// Uploads the buffer as the next shard, then the manifest listing it. On failure the buffer is kept.
    private func flushLocked() throws {
        guard !pendingHashes.isEmpty else { return }
        if !namespaceRecorded {
            try store.put(prefix + "namespace.json", Data((namespace.descriptor + "\n").utf8))
            namespaceRecorded = true
        }
        let sequence = String(nextSequence)
        let name = writerID + "-" + String(repeating: "0", count: max(0, 6 - sequence.count)) + sequence + ".bnks"
        let key = prefix + "shards/" + name
        let (data, crc, indexCRC) = pendingBytes.withUnsafeBytes {
            ShardFormat.encode(namespace: namespace, hashes: pendingHashes, vectorBytes: $0)
        }
        try store.put(key, data)
        nextSequence += 1
        let entry = ShardEntry(name: name, count: pendingHashes.count, bytes: data.count, crc: crc, indexCRC: indexCRC)
        var updated = manifest
        updated.shards.append(entry)
        try store.put(prefix + "manifests/" + writerID + ".json", updated.encoded())
        if manifest.shards.isEmpty { manifestCount += 1 }
        manifest = updated
        let shardNumber = Int32(shards.count)
        shards.append(Shard(key: key, entry: entry, usable: true))
        for (record, hash) in pendingHashes.enumerated() {
            insert(hash, at: Location(shard: shardNumber, record: Int32(record)))
        }
        pendingHashes.removeAll(keepingCapacity: true)
        pendingSlots.removeAll(keepingCapacity: true)
        pendingBytes.removeAll(keepingCapacity: true)
        oldestPending = nil
    }

    private func decodePending(_ slot: Int) -> [Float] {
        let dimension = namespace.dimension, stride = dimension * namespace.dtype.byteWidth
        return pendingBytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: dimension) { buffer, count in
                namespace.dtype.decode(raw.baseAddress! + slot * stride, count: dimension, into: buffer.baseAddress!)
                count = dimension
            }
        }
    }

    /// Reads and checks a whole shard; nil (and the shard marked damaged) when it is missing or damaged.
    /// Returns the bytes and where the vectors start.
    private func loadShard(_ shardNumber: Int) throws -> (Data, Int)? {
        let (key, entry, usable) = lock.withLock { (shards[shardNumber].key, shards[shardNumber].entry,
                                                     shards[shardNumber].usable) }
        guard usable else { return nil }
        guard let data = try store.get(key) else {
            markDamaged(shardNumber, reason: ShardDamage.missing.description)
            return nil
        }
        let damage: ShardDamage? = data.withUnsafeBytes { raw in
            do throws(ShardDamage) {
                _ = try ShardFormat.verify(raw, namespace: namespace, entry: entry)
                return nil
            } catch {
                return error
            }
        }
        if let damage {
            markDamaged(shardNumber, reason: damage.description)
            return nil
        }
        return (data, ShardFormat.indexSize(count: entry.count))
    }

    /// Marks a shard unusable; its images move to another copy when there is one and are missing otherwise.
    private func markDamaged(_ shardNumber: Int, reason: String) {
        let problem: CacheProblem? = lock.withLock {
            guard shards[shardNumber].usable else { return nil }
            shards[shardNumber].usable = false
            let number = Int32(shardNumber)
            var lost = 0
            for hash in index.filter({ $0.value.shard == number }).map(\.key) {
                var copies = alternates.removeValue(forKey: hash) ?? []
                copies.removeAll { !shards[Int($0.shard)].usable }
                if copies.isEmpty {
                    index[hash] = nil
                    lost += 1
                } else {
                    index[hash] = copies.removeFirst()
                    if !copies.isEmpty { alternates[hash] = copies }
                }
            }
            let key = shards[shardNumber].key
            let problem = CacheProblem(key: key, location: store.location(of: key), reason: reason, lostVectors: lost)
            problemList.append(problem)
            return problem
        }
        if let problem { options.onProblem?(problem) }
    }

    private func nextUsableShard(from start: Int) -> Int? {
        lock.withLock { shards.indices.dropFirst(start).first { shards[$0].usable } }
    }

    private func batch(ofShard shardNumber: Int) throws -> FeatureBatch? {
        guard let (data, vectorsStart) = try loadShard(shardNumber) else { return nil }
        let dimension = namespace.dimension, dtype = namespace.dtype, stride = dimension * dtype.byteWidth
        let (key, count) = lock.withLock { (shards[shardNumber].key, shards[shardNumber].entry.count) }
        return data.withUnsafeBytes { raw -> FeatureBatch in
            // Keep the records the index points at (drops images another shard already holds).
            let records: [(ImageHash, Int)] = lock.withLock {
                (0..<count).compactMap { record in
                    let hash = ImageHash(loadingFrom: raw.baseAddress! + ShardFormat.headerSize
                                         + record * ShardFormat.hashSize)
                    let location = Location(shard: Int32(shardNumber), record: Int32(record))
                    return index[hash] == location ? (hash, record) : nil
                }
            }
            let values = [Float](unsafeUninitializedCapacity: records.count * dimension) { buffer, initialized in
                if records.count == count {
                    dtype.decode(raw.baseAddress! + vectorsStart, count: count * dimension, into: buffer.baseAddress!)
                } else {
                    for (row, (_, record)) in records.enumerated() {
                        dtype.decode(raw.baseAddress! + vectorsStart + record * stride, count: dimension,
                                     into: buffer.baseAddress! + row * dimension)
                    }
                }
                initialized = records.count * dimension
            }
            return FeatureBatch(hashes: records.map(\.0), dimension: dimension, values: values, source: key)
        }
    }

    /// Reads the vectors at `requests`, shard by shard. When a shard is damaged, its images whose copy elsewhere took
    /// over are read from there.
    private func readVectors(_ requests: [(ImageHash, Location)], _ deliver: (ImageHash, [Float]) -> Void) throws {
        let dimension = namespace.dimension, dtype = namespace.dtype, stride = dimension * dtype.byteWidth
        var pending = requests
        while !pending.isEmpty {
            let byShard = Dictionary(grouping: pending, by: { Int($0.1.shard) })
            pending = []
            for shardNumber in byShard.keys.sorted() {
                let wanted = byShard[shardNumber]!
                guard let (data, vectorsStart) = try loadShard(shardNumber) else {
                    lock.withLock {
                        for (hash, _) in wanted {
                            if let location = index[hash], Int(location.shard) != shardNumber {
                                pending.append((hash, location))
                            }
                        }
                    }
                    continue
                }
                data.withUnsafeBytes { raw in
                    for (hash, location) in wanted {
                        deliver(hash, [Float](unsafeUninitializedCapacity: dimension) { buffer, count in
                            dtype.decode(raw.baseAddress! + vectorsStart + Int(location.record) * stride,
                                         count: dimension, into: buffer.baseAddress!)
                            count = dimension
                        })
                    }
                }
            }
        }
    }

    /// Indexes a copy of `hash`: the first copy is the one read, later ones are alternates.
    private func insert(_ hash: ImageHash, at location: Location) {
        if index[hash] == nil {
            index[hash] = location
        } else {
            alternates[hash, default: []].append(location)
        }
    }

    private func bufferBatch() -> FeatureBatch? {
        lock.withLock {
            guard !pendingHashes.isEmpty else { return nil }
            let dimension = namespace.dimension
            let values = pendingBytes.withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: pendingHashes.count * dimension) { buffer, initialized in
                    namespace.dtype.decode(raw.baseAddress!, count: pendingHashes.count * dimension,
                                           into: buffer.baseAddress!)
                    initialized = pendingHashes.count * dimension
                }
            }
            return FeatureBatch(hashes: pendingHashes, dimension: dimension, values: values, source: "buffer")
        }
    }

    static func isValidWriterID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && !id.hasPrefix(".")
            && id.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                                                              || $0 == "." || $0 == "_" || $0 == "-") }
    }

    /// The sequence number in `<writer>-<digits>.bnks`, or nil when the name is not one of `writer`'s shards.
    static func sequence(ofShard name: String, writer: String) -> Int? {
        guard name.hasPrefix(writer + "-"), name.hasSuffix(".bnks") else { return nil }
        let digits = name.dropFirst(writer.count + 1).dropLast(".bnks".count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// `transform` over `items` on up to 8 threads (reads are mostly waiting on the disk or the network, so more
    /// threads than cores), results in order.
    private static func concurrentMap<T: Sendable, R: Sendable>(
        _ items: [T], _ transform: @escaping @Sendable (T) throws -> R
    ) -> [Result<R, any Error>] {
        if items.count <= 1 { return items.map { item in Result { try transform(item) } } }
        let results = LockedArray<Result<R, any Error>?>(repeating: nil, count: items.count)
        let next = LockedArray<Int>(repeating: 0, count: 1)
        let workers = min(8, items.count)
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<workers {
            Thread {
                while true {
                    let position = next.update(0) { $0 += 1; return $0 - 1 }
                    guard position < items.count else { break }
                    results.set(position, Result { try transform(items[position]) })
                }
                finished.signal()
            }.start()
        }
        for _ in 0..<workers { finished.wait() }
        return results.values.map { $0! }
    }
}

/// A shard's vectors (or the buffer's), row-major.
public struct FeatureBatch: Sendable {
    public let hashes: [ImageHash]
    public let dimension: Int
    /// `hashes.count x dimension` values; row `i` is the vector of `hashes[i]`.
    public let values: [Float]
    /// The shard's key, or "buffer".
    public let source: String

    public var count: Int { hashes.count }

    public func vector(at row: Int) -> ArraySlice<Float> {
        values[row * dimension..<(row + 1) * dimension]
    }
}

/// A small lock-protected array for collecting results across threads.
private final class LockedArray<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element]

    init(repeating value: Element, count: Int) { storage = Array(repeating: value, count: count) }

    func set(_ position: Int, _ value: Element) { lock.withLock { storage[position] = value } }

    func update<R>(_ position: Int, _ body: (inout Element) -> R) -> R { lock.withLock { body(&storage[position]) } }

    var values: [Element] { lock.withLock { storage } }
}
