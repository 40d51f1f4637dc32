@testable import BottleneckCache
import ContentHashing
import Foundation
import Testing

@Suite("Keys: image hashes, canonical JSON, namespaces")
struct KeyTests {
    @Test("image hash hex round trip, case-insensitive, ordered like its hex")
    func imageHash() throws {
        let digest = SHA256.hash(Data("abc".utf8))
        let hash = ImageHash(digest)
        #expect(hash.hexString == digest.hexString)
        #expect(try ImageHash(hex: digest.hexString.uppercased()) == hash)
        #expect(hash.bytes == digest.bytes)
        #expect(try ImageHash(bytes: digest.bytes) == hash)
        let hashes = Fixtures.hashes(0..<50)
        #expect(hashes.sorted().map(\.hexString) == hashes.map(\.hexString).sorted())
        #expect(throws: CacheError.self) { try ImageHash(hex: "abc") }
        #expect(throws: CacheError.self) { try ImageHash(hex: String(repeating: "g", count: 64)) }
    }

    @Test("canonical JSON ignores key order, spacing and number spelling")
    func canonicalJSON() throws {
        let a = try CanonicalJSON.canonicalize(#"{"b": [1, 2.50, true, null], "a": "x\"y\n", "c": {"z": 1e-5, "y": 256.0}}"#)
        let b = try CanonicalJSON.canonicalize(#"{"c":{"y":256,"z":0.00001},"a":"x\"y\n","b":[1.0,2.5,true,null]}"#)
        #expect(a == #"{"a":"x\"y\n","b":[1,2.5,true,null],"c":{"y":256,"z":1e-05}}"#)
        #expect(a == b)
        #expect(throws: CacheError.self) { try CanonicalJSON.canonicalize("{not json") }
    }

    @Test("every part of the key changes the namespace id; equal descriptions give equal ids")
    func namespaceIDs() throws {
        let base = try Fixtures.namespace()
        #expect(base.id.count == 16)
        let reordered = try Fixtures.namespace(
            preprocessing: #"{ "std":[128,128,128], "crop":"center", "mean":[127,127,127], "input_size":224 }"#)
        #expect(reordered.id == base.id)
        let upperFingerprint = try Fixtures.namespace(fingerprint: String(repeating: "AB", count: 32))
        #expect(upperFingerprint.id == base.id)
        let variants = [
            try Fixtures.namespace(dimension: 17),
            try Fixtures.namespace(dtype: .float16),
            try Fixtures.namespace(tensor: "logits"),
            try Fixtures.namespace(fingerprint: String(repeating: "cd", count: 32)),
            try Fixtures.namespace(preprocessing: Fixtures.preprocessing.replacingOccurrences(of: "224", with: "240")),
            try Fixtures.namespace(arithmetic: "int8"),
        ]
        // fp32 descriptors carry no arithmetic key, so caches written before int8 existed keep their ids.
        #expect(!base.descriptor.contains("arithmetic"))
        #expect(try Fixtures.namespace(arithmetic: "int8").descriptor.hasPrefix(#"{"arithmetic":"int8","backbone":"#))
        #expect(Set(variants.map(\.id) + [base.id]).count == variants.count + 1)
        #expect(throws: CacheError.self) { try Fixtures.namespace(dimension: 0) }
        #expect(throws: CacheError.self) { try Fixtures.namespace(tensor: "") }
        #expect(throws: CacheError.self) { try Fixtures.namespace(fingerprint: " ") }
        #expect(throws: CacheError.self) { try Fixtures.namespace(preprocessing: "{") }
    }

    @Test("namespace from a model file fingerprints its bytes")
    func modelFile() throws {
        let folder = try TemporaryFolder("model")
        defer { folder.remove() }
        let file = folder.file("model.onnx")
        try Data("weights".utf8).write(to: file)
        let namespace = try CacheNamespace(modelFile: file, preprocessingJSON: "{}", tensorName: "t", dimension: 4)
        #expect(namespace.backboneFingerprint == SHA256.hash(Data("weights".utf8)).hexString)
    }
}
