@testable import BottleneckCache
import Foundation
import Testing

/// Pins the byte layout documented in docs/cache-format.md.
@Suite("Shard and manifest format")
struct ShardFormatTests {
    func u32(_ data: Data, _ offset: Int) -> UInt32 {
        data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    }

    @Test("shard bytes: header, index, vectors, footer at the documented offsets")
    func layout() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace(dimension: 3)
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "w"))
        try cache.append(Fixtures.hash(1), [1, -2, 0.5])
        try cache.append(Fixtures.hash(2), [0, 3, 4])
        try cache.close()
        let data = try #require(try store.get("\(namespace.id)/shards/w-000001.bnks"))
        #expect(data.count == 64 + 2 * 32 + 2 * 3 * 4 + 16)
        #expect(Array(data[0..<8]) == Array("BNKSHARD".utf8))
        #expect(data[8] == 1 && data[9] == 0)    // version 1, little-endian u16
        #expect(data[10] == 1 && data[11] == 0)  // dtype float32, reserved
        #expect(u32(data, 12) == 3 && u32(data, 16) == 2 && u32(data, 20) == 0)
        #expect(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 24, as: UInt64.self) }.littleEndian
                == UInt64(namespace.id, radix: 16)!)
        #expect(u32(data, 32) == CRC32C.checksum(data[64..<128]))
        #expect(data[36..<60].allSatisfy { $0 == 0 })
        #expect(u32(data, 60) == CRC32C.checksum(data[0..<60]))
        #expect(Array(data[64..<96]) == Fixtures.hash(1).bytes && Array(data[96..<128]) == Fixtures.hash(2).bytes)
        let floats = data[128..<152].withUnsafeBytes { raw in (0..<6).map { Float(bitPattern: UInt32(littleEndian:
            raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        #expect(floats == [1, -2, 0.5, 0, 3, 4])
        #expect(u32(data, 152) == CRC32C.checksum(data[0..<152]) && u32(data, 156) == 0)
        #expect(Array(data[160..<168]) == Array("ENDSHARD".utf8))

        // The manifest.
        let manifestData = try #require(try store.get("\(namespace.id)/manifests/w.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
        #expect(json["format"] as? String == "bottleneck-feature-cache-manifest")
        #expect(json["version"] as? Int == 1 && json["writer"] as? String == "w" && json["dimension"] as? Int == 3)
        #expect(json["namespace"] as? String == namespace.id && json["dtype"] as? String == "float32")
        let shards = try #require(json["shards"] as? [[String: Any]])
        #expect(shards.count == 1)
        #expect(shards[0]["name"] as? String == "w-000001.bnks" && shards[0]["count"] as? Int == 2)
        #expect(shards[0]["bytes"] as? Int == 168)
        #expect(shards[0]["crc32c"] as? String == u32(data, 152).hex8)
        #expect(shards[0]["index_crc32c"] as? String == u32(data, 32).hex8)
        // The namespace descriptor.
        let descriptor = try #require(try store.get("\(namespace.id)/namespace.json"))
        #expect(String(decoding: descriptor, as: UTF8.self) == namespace.descriptor + "\n")
        #expect(namespace.descriptor == #"{"backbone":"\#(String(repeating: "ab", count: 32))","dimension":3,"#
                + #""dtype":"float32","key_version":1,"preprocessing":{"crop":"center","input_size":224,"#
                + #""mean":[127,127,127],"std":[128,128,128]},"tensor":"pooled"}"#)
    }

    @Test("float16 shards store binary16 little-endian")
    func float16Layout() throws {
        let store = InMemoryObjectStore()
        let namespace = try Fixtures.namespace(dimension: 2, dtype: .float16)
        let cache = try FeatureCache.open(store: store, namespace: namespace, options: Fixtures.options(writer: "h"))
        try cache.append(Fixtures.hash(1), [1, -2])
        try cache.close()
        let data = try #require(try store.get("\(namespace.id)/shards/h-000001.bnks"))
        #expect(data.count == 64 + 32 + 4 + 16 && data[10] == 2)
        #expect(Array(data[96..<100]) == [0x00, 0x3C, 0x00, 0xC0])  // 1.0 = 0x3C00, -2.0 = 0xC000
    }

    @Test("a shard from another namespace or of another shape is rejected")
    func wrongNamespace() throws {
        let store = InMemoryObjectStore()
        let a = try Fixtures.namespace(dimension: 4), b = try Fixtures.namespace(dimension: 4, tensor: "other")
        let cache = try FeatureCache.open(store: store, namespace: a, options: Fixtures.options(writer: "w"))
        try cache.append(Fixtures.hash(1), [1, 2, 3, 4])
        try cache.close()
        // Copy a's shard and manifest under b, rewriting the manifest's namespace id.
        try store.put("\(b.id)/shards/w-000001.bnks", try store.get("\(a.id)/shards/w-000001.bnks")!)
        let manifest = String(decoding: try store.get("\(a.id)/manifests/w.json")!, as: UTF8.self)
            .replacingOccurrences(of: a.id, with: b.id)
        try store.put("\(b.id)/manifests/w.json", Data(manifest.utf8))
        let other = try FeatureCache.open(store: store, namespace: b)
        #expect(other.count == 0)
        #expect(other.problems.first?.reason == "not a valid shard: it belongs to namespace \(a.id), not \(b.id)")
    }
}
