import Foundation

/// Which part of the images one of `count` parallel jobs extracts: image `h` belongs to shard
/// `(first 8 bytes of h, big-endian) mod count`. The partition depends only on the image bytes, so it is the same on
/// every machine and in every run, and the jobs together cover every image exactly once.
///
/// From the command line (`--shard 3/8`, ``init(parsing:)``) or from an AWS Batch array job, whose child `i` has
/// `AWS_BATCH_JOB_ARRAY_INDEX=i` (``fromEnvironment(_:count:)``; the array size is not in the environment, so the
/// count is given).
public struct ShardAssignment: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Every image: one job.
    public static let all = ShardAssignment(uncheckedIndex: 0, count: 1)

    public static let awsBatchIndexVariable = "AWS_BATCH_JOB_ARRAY_INDEX"

    public init(index: Int, count: Int) throws {
        guard count >= 1 else {
            throw CacheError(.invalidShardAssignment, "the shard count must be at least 1, got \(count)")
        }
        guard (0..<count).contains(index) else {
            throw CacheError(.invalidShardAssignment, "shard index \(index) is out of range for \(count) shards: "
                             + "indexes go from 0 to \(count - 1)")
        }
        self.index = index
        self.count = count
    }

    private init(uncheckedIndex: Int, count: Int) {
        self.index = uncheckedIndex
        self.count = count
    }

    /// Parses `INDEX/COUNT`, e.g. `0/4` ... `3/4`.
    public init(parsing text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Self.wholeNumber(parts[0]), let count = Self.wholeNumber(parts[1]) else {
            throw CacheError(.invalidShardAssignment, "'\(text)' is not a shard: expected INDEX/COUNT with whole "
                             + "numbers, e.g. 0/4 for the first of 4 shards")
        }
        try self.init(index: index, count: count)
    }

    /// The assignment of an AWS Batch array child: `AWS_BATCH_JOB_ARRAY_INDEX` out of `count`; nil when the variable
    /// is not set (not an array job).
    public static func fromEnvironment(_ environment: [String: String], count: Int) throws -> ShardAssignment? {
        guard let value = environment[awsBatchIndexVariable] else { return nil }
        guard let index = wholeNumber(Substring(value.trimmingCharacters(in: .whitespaces))) else {
            throw CacheError(.invalidShardAssignment, "\(awsBatchIndexVariable) is '\(value)', not a whole number")
        }
        do {
            return try ShardAssignment(index: index, count: count)
        } catch let error as CacheError {
            throw CacheError(.invalidShardAssignment, "\(awsBatchIndexVariable)=\(value): \(error.message); is the "
                             + "shard count (\(count)) the array size?")
        }
    }

    /// Whether this job extracts `hash`.
    public func owns(_ hash: ImageHash) -> Bool {
        count == 1 || Int(hash.prefix64 % UInt64(count)) == index
    }

    /// The hashes this job extracts, in their order.
    public func filter(_ hashes: some Sequence<ImageHash>) -> [ImageHash] {
        hashes.filter(owns)
    }

    /// `INDEX/COUNT`.
    public var description: String { "\(index)/\(count)" }

    private static func wholeNumber(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(text)
    }
}
