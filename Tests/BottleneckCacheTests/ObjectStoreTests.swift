@testable import BottleneckCache
import Foundation
import Testing

@Suite("Object stores")
struct ObjectStoreTests {
    /// The behaviour every store shares.
    func exercise(_ store: any ObjectStore) throws {
        #expect(try store.get("a/b/missing") == nil)
        #expect(try store.list(prefix: "").isEmpty)
        try store.put("ns/shards/one.bnks", Data("first".utf8))
        try store.put("ns/shards/two.bnks", Data("second".utf8))
        try store.put("ns/manifests/w.json", Data("{}".utf8))
        try store.put("other/x", Data())
        #expect(try store.get("ns/shards/one.bnks") == Data("first".utf8))
        #expect(try store.get("other/x") == Data())
        try store.put("ns/shards/one.bnks", Data("replaced".utf8))
        #expect(try store.get("ns/shards/one.bnks") == Data("replaced".utf8))
        #expect(try store.get("ns/shards/one.bnks", range: 2..<5) == Data("pla".utf8))
        #expect(try store.get("ns/shards/one.bnks", range: 6..<100) == Data("ed".utf8))
        #expect(try store.get("ns/shards/none", range: 0..<4) == nil)
        #expect(try store.list(prefix: "ns/shards/").sorted() == ["ns/shards/one.bnks", "ns/shards/two.bnks"])
        #expect(try store.list(prefix: "ns/shards/t") == ["ns/shards/two.bnks"])
        #expect(try store.list(prefix: "ns/").count == 3)
        #expect(try store.list(prefix: "n").count == 3)
        #expect(try store.list(prefix: "").count == 4)
        #expect(try store.list(prefix: "nothing/").isEmpty)
        try store.delete("ns/shards/two.bnks")
        try store.delete("ns/shards/two.bnks")  // deleting a missing object is fine
        #expect(try store.get("ns/shards/two.bnks") == nil)
        for bad in ["", "/abs", "a//b", "a/../b", "a/./b", "a/.hidden", "trailing/"] {
            #expect(throws: CacheError.self, "key '\(bad)'") { try store.put(bad, Data()) }
        }
    }

    @Test("in-memory store")
    func inMemory() throws {
        try exercise(InMemoryObjectStore())
    }

    @Test("local directory store")
    func localDirectory() throws {
        let folder = try TemporaryFolder("store")
        defer { folder.remove() }
        let store = LocalDirectoryStore(root: folder.url.appendingPathComponent("not/yet/created"))
        try exercise(store)
        #expect(store.location(of: "ns/shards/one.bnks").hasSuffix("not/yet/created/ns/shards/one.bnks"))
    }

    @Test("half-written temporary files are never listed, and can be cleaned up")
    func temporaryFilesIgnored() throws {
        let folder = try TemporaryFolder("store")
        defer { folder.remove() }
        let store = LocalDirectoryStore(root: folder.url)
        try store.put("ns/shards/a.bnks", Data("a".utf8))
        // What a put killed before its rename leaves behind.
        try Data("half".utf8).write(to: folder.file("ns/shards/.b.bnks.k3j4.tmp"))
        #expect(try store.list(prefix: "ns/") == ["ns/shards/a.bnks"])
        #expect(try store.removeTemporaryFiles() == 1)
        #expect(!FileManager.default.fileExists(atPath: folder.file("ns/shards/.b.bnks.k3j4.tmp").path))
        // No temporary file is left after normal puts.
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.file("ns/shards").path)
        #expect(names == ["a.bnks"])
    }
}
