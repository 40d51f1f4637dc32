@testable import BottleneckCache
import Foundation

/// A fresh folder under the temporary directory, removed by `remove()`.
struct TemporaryFolder {
    let url: URL

    init(_ label: String = "cache") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("bnk-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    func file(_ relative: String) -> URL { url.appendingPathComponent(relative) }
}

enum Fixtures {
    static let preprocessing = #"{"input_size":224,"mean":[127,127,127],"std":[128,128,128],"crop":"center"}"#

    static func namespace(dimension: Int = 16, dtype: VectorDType = .float32, tensor: String = "pooled",
                          fingerprint: String = String(repeating: "ab", count: 32),
                          preprocessing: String = Fixtures.preprocessing, arithmetic: String? = nil) throws
        -> CacheNamespace
    {
        try CacheNamespace(backboneFingerprint: fingerprint, preprocessingJSON: preprocessing, tensorName: tensor,
                           dtype: dtype, arithmetic: arithmetic, dimension: dimension)
    }

    /// The content hash of synthetic image `i`.
    static func hash(_ i: Int) -> ImageHash { ImageHash.of(Data("image-\(i)".utf8)) }

    static func hashes(_ range: Range<Int>) -> [ImageHash] { range.map(hash) }

    /// A deterministic vector for image `i`, values in [-4, 4).
    static func vector(_ i: Int, dimension: Int) -> [Float] {
        var state = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<dimension).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max) * 4
        }
    }

    /// Options that never flush on time, so tests decide when shards are written.
    static func options(writer: String? = nil, maxShardBytes: Int = 64 << 20, every: Int? = nil)
        -> FeatureCache.Options {
        FeatureCache.Options(writerID: writer, maxShardBytes: maxShardBytes, flushEveryVectors: every,
                             flushInterval: nil)
    }
}

/// Wraps a store, recording calls and failing puts on demand.
final class RecordingStore: ObjectStore, @unchecked Sendable {
    let inner: any ObjectStore
    private let lock = NSLock()
    private var _events: [String] = []
    private var _failPutsContaining: String?

    init(_ inner: any ObjectStore) { self.inner = inner }

    var events: [String] { lock.withLock { _events } }
    func record(_ event: String) { lock.withLock { _events.append(event) } }
    func clearEvents() { lock.withLock { _events.removeAll() } }
    /// Puts whose key contains `fragment` throw, as if the process died before them.
    func failPuts(containing fragment: String?) { lock.withLock { _failPutsContaining = fragment } }

    func put(_ key: String, _ bytes: Data) throws {
        if let fragment = lock.withLock({ _failPutsContaining }), key.contains(fragment) {
            throw CacheError(.storeFailure, "injected failure for \(key)")
        }
        record("put \(key)")
        try inner.put(key, bytes)
    }

    func get(_ key: String) throws -> Data? {
        let data = try inner.get(key)
        record("get \(key) \(data?.count ?? -1)")
        return data
    }

    func get(_ key: String, range: Range<Int>) throws -> Data? {
        let data = try inner.get(key, range: range)
        record("range \(key) \(data?.count ?? -1)")
        return data
    }

    func list(prefix: String) throws -> [String] { try inner.list(prefix: prefix) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func location(of key: String) -> String { inner.location(of: key) }
}
