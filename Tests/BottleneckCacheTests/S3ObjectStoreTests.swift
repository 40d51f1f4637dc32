@testable import BottleneckCache
import BottleneckNetwork
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs moto's S3 server (`.venv/bin/moto_server`, from scripts/requirements.txt) on 127.0.0.1 for the duration of
/// a test.
final class MotoServer: @unchecked Sendable {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let executable = repositoryRoot.appendingPathComponent(".venv/bin/moto_server")
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    /// Under CI (`make test` installs the venv) the tests must not be skipped.
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable.path) || isCI }

    let process = Process()
    let endpoint: String

    init() throws {
        let port = try Self.freePort()
        endpoint = "http://127.0.0.1:\(port)"
        process.executableURL = Self.executable
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let http = try HTTPClient(configuration: .init(connectTimeout: .seconds(1), totalTimeout: .seconds(5)))
        let deadline = Date().addingTimeInterval(30)
        while true {
            if (try? http.send(HTTPRequest(method: .get, url: endpoint + "/moto-api/"))) != nil { break }
            guard Date() < deadline, process.isRunning else {
                stop()
                throw CacheError(.storeFailure, "moto_server did not start on \(endpoint)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Creates a bucket (moto accepts unsigned requests).
    func createBucket(_ name: String) throws {
        let response = try HTTPClient().send(HTTPRequest(method: .put, url: "\(endpoint)/\(name)"))
        guard response.isSuccess else { throw CacheError(.storeFailure, "moto refused bucket \(name)") }
    }

    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
         "AWS_ENDPOINT_URL_S3": endpoint]
    }

    /// Kills the server (moto_server ignores SIGTERM) and waits up to 5 s for it to go.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }

    deinit { stop() }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw CacheError(.storeFailure, "no free local port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

@Suite("S3 object store (moto server)", .serialized,
       .enabled(if: MotoServer.isAvailable, "needs .venv/bin/moto_server (make venv)"))
struct S3ObjectStoreTests {
    @Test("object store contract, prefixes, ranges and missing objects against S3")
    func contract() throws {
        let server = try MotoServer()
        defer { server.stop() }
        try server.createBucket("features")
        let location = try CacheLocation(parsing: "s3://features/runs/v1/")
        let store = try location.makeStore(environment: server.environment)
        let s3 = try #require(store as? S3ObjectStore)
        #expect(s3.prefix == "runs/v1" && s3.location(of: "a/b") == "s3://features/runs/v1/a/b")
        try ObjectStoreTests().exercise(store)
        // Another prefix in the same bucket is a separate store.
        let sibling = S3ObjectStore(client: s3.client, bucket: "features", prefix: "runs/v10")
        #expect(try sibling.list(prefix: "").isEmpty)
        try sibling.put("x", Data("y".utf8))
        #expect(try store.list(prefix: "").count == 3)
        #expect(try store.get("ns/shards/one.bnks", range: 100..<200) == Data())
        #expect(try store.get("ns/shards/one.bnks", range: 3..<3) == Data())
        #expect(try store.get("ns/shards/none", range: 3..<3) == nil)
    }

    @Test("feature cache on S3: commit, reopen, damage, concurrent writers")
    func featureCache() throws {
        let server = try MotoServer()
        defer { server.stop() }
        try server.createBucket("cache")
        let store = try CacheLocation(parsing: "s3://cache/features").makeStore(environment: server.environment)
        let namespace = try Fixtures.namespace(dimension: 64)
        for writer in ["a", "b"] {
            let cache = try FeatureCache.open(store: store, namespace: namespace,
                                              options: Fixtures.options(writer: writer, every: 25))
            for i in (writer == "a" ? 0..<60 : 40..<100) {
                try cache.append(Fixtures.hash(i), Fixtures.vector(i, dimension: 64))
            }
            // a closes; b is "killed": it skipped 40..<60 (a has them), flushed 60..<85 and loses 85..<100.
            if writer == "a" { try cache.close() }
        }
        let reader = try FeatureCache.open(store: store, namespace: namespace)
        #expect(reader.problems.isEmpty && reader.statistics.manifests == 2)
        #expect(reader.missing(from: Fixtures.hashes(0..<100)) == Fixtures.hashes(85..<100))
        let found = try reader.lookup(Fixtures.hashes(0..<100))
        #expect(found.count == 85 && found[Fixtures.hash(77)] == Fixtures.vector(77, dimension: 64))

        var shard = try #require(try store.get("\(namespace.id)/shards/a-000001.bnks"))
        shard[shard.count - 30] ^= 0x10
        try store.put("\(namespace.id)/shards/a-000001.bnks", shard)
        let damaged = try FeatureCache.open(store: store, namespace: namespace)
        #expect(try damaged.verify().map(\.location) == ["s3://cache/features/\(namespace.id)/shards/a-000001.bnks"])
        #expect(damaged.missing(from: Fixtures.hashes(0..<100)) == Fixtures.hashes(0..<25) + Fixtures.hashes(85..<100))
    }
}
