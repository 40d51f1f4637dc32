import Foundation

/// Where the cache keeps its objects: a local folder, S3, or memory. Keys are `/`-separated relative paths such as
/// `3f2a9c0e5b1d7a64/shards/w1-000001.bnks`.
///
/// Every `put` must be atomic: a reader sees the previous object, no object, or the complete new one, never part of
/// one. That is what makes "upload the shard, then commit the manifest" crash-safe.
public protocol ObjectStore: Sendable {
    /// Stores `bytes` under `key`, replacing any previous object, atomically.
    func put(_ key: String, _ bytes: Data) throws
    /// The object's bytes, or nil when there is no object under `key`.
    func get(_ key: String) throws -> Data?
    /// The bytes in `range` of the object (fewer when the object is shorter), or nil when there is no object.
    /// The default implementation reads the whole object; stores that can read a range should.
    func get(_ key: String, range: Range<Int>) throws -> Data?
    /// Every key that starts with `prefix` (a plain string prefix, as in S3), in no particular order.
    func list(prefix: String) throws -> [String]
    /// Removes the object; removing a missing object is not an error.
    func delete(_ key: String) throws
    /// Where `key` is, for messages: a file path or a URL.
    func location(of key: String) -> String
}

extension ObjectStore {
    public func get(_ key: String, range: Range<Int>) throws -> Data? {
        guard let data = try get(key) else { return nil }
        let lower = min(range.lowerBound, data.count), upper = min(range.upperBound, data.count)
        return data.subdata(in: data.startIndex + lower..<data.startIndex + upper)
    }

    public func location(of key: String) -> String { key }
}

/// Checks that `key` is a relative `/`-separated path whose components are not empty, `.`, `..`, and do not start
/// with `.` (names starting with `.` are reserved for temporary files).
func validateObjectKey(_ key: String) throws {
    let components = key.split(separator: "/", omittingEmptySubsequences: false)
    guard !key.isEmpty, !key.contains("\0"),
          components.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }) else {
        throw CacheError(.invalidKey, "'\(key)' is not a valid object key: use relative '/'-separated names that "
                         + "are not empty and do not start with '.'")
    }
}

/// A store in memory, for tests and for short-lived caches.
public final class InMemoryObjectStore: ObjectStore, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: Data] = [:]

    public init() {}

    public func put(_ key: String, _ bytes: Data) throws {
        try validateObjectKey(key)
        lock.withLock { objects[key] = bytes }
    }

    public func get(_ key: String) throws -> Data? {
        lock.withLock { objects[key] }
    }

    public func list(prefix: String) throws -> [String] {
        lock.withLock { objects.keys.filter { $0.hasPrefix(prefix) } }
    }

    public func delete(_ key: String) throws {
        _ = lock.withLock { objects.removeValue(forKey: key) }
    }

    public func location(of key: String) -> String { "memory:\(key)" }

    /// Every key, sorted.
    public var keys: [String] { lock.withLock { objects.keys.sorted() } }
}
