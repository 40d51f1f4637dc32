@testable import BottleneckCache
import Foundation
import Testing

@Suite("Shard assignment and cache locations")
struct ShardAssignmentTests {
    @Test("parses INDEX/COUNT")
    func parsing() throws {
        let assignment = try ShardAssignment(parsing: "3/8")
        #expect(assignment.index == 3 && assignment.count == 8)
        #expect(assignment.description == "3/8")
        #expect(try ShardAssignment(parsing: " 0/1 ") == .all)
    }

    @Test("rejects malformed and out-of-range shards with clear messages", arguments: [
        ("3/2", "shard index 3 is out of range for 2 shards: indexes go from 0 to 1"),
        ("2/2", "shard index 2 is out of range for 2 shards: indexes go from 0 to 1"),
        ("a/b", "'a/b' is not a shard: expected INDEX/COUNT with whole numbers, e.g. 0/4 for the first of 4 shards"),
        ("0/0", "the shard count must be at least 1, got 0"),
        ("-1/4", "'-1/4' is not a shard: expected INDEX/COUNT with whole numbers, e.g. 0/4 for the first of 4 shards"),
        ("1", "'1' is not a shard: expected INDEX/COUNT with whole numbers, e.g. 0/4 for the first of 4 shards"),
        ("1/2/3", "'1/2/3' is not a shard: expected INDEX/COUNT with whole numbers, e.g. 0/4 for the first of 4 shards"),
        ("", "'' is not a shard: expected INDEX/COUNT with whole numbers, e.g. 0/4 for the first of 4 shards"),
    ])
    func errors(text: String, message: String) {
        #expect {
            try ShardAssignment(parsing: text)
        } throws: { error in
            (error as? CacheError)?.code == .invalidShardAssignment && (error as? CacheError)?.message == message
        }
    }

    @Test("from the AWS Batch array index")
    func environment() throws {
        #expect(try ShardAssignment.fromEnvironment([:], count: 4) == nil)
        #expect(try ShardAssignment.fromEnvironment(["AWS_BATCH_JOB_ARRAY_INDEX": "2"], count: 4)
                == ShardAssignment(index: 2, count: 4))
        #expect {
            try ShardAssignment.fromEnvironment(["AWS_BATCH_JOB_ARRAY_INDEX": "4"], count: 4)
        } throws: { error in
            (error as? CacheError)?.message == "AWS_BATCH_JOB_ARRAY_INDEX=4: shard index 4 is out of range for 4 "
                + "shards: indexes go from 0 to 3; is the shard count (4) the array size?"
        }
        #expect(throws: CacheError.self) {
            try ShardAssignment.fromEnvironment(["AWS_BATCH_JOB_ARRAY_INDEX": "x"], count: 4)
        }
    }

    @Test("partitions hashes: every hash in exactly one shard, roughly balanced, by the first 8 bytes")
    func partition() throws {
        let hashes = Fixtures.hashes(0..<4000)
        let shards = try (0..<4).map { try ShardAssignment(index: $0, count: 4) }
        for hash in hashes {
            #expect(shards.filter { $0.owns(hash) }.count == 1)
            #expect(shards[Int(hash.prefix64 % 4)].owns(hash))
        }
        for shard in shards {
            #expect((900...1100).contains(shard.filter(hashes).count))
        }
        #expect(ShardAssignment.all.filter(hashes) == hashes)
    }

    @Test("cache locations: paths, file URLs, S3 URLs")
    func locations() throws {
        #expect(try CacheLocation(parsing: "/data/cache") == .directory(URL(fileURLWithPath: "/data/cache")))
        #expect(try CacheLocation(parsing: "file:///data/my%20cache/") == .directory(URL(fileURLWithPath: "/data/my cache")))
        #expect(try CacheLocation(parsing: "file://localhost/data") == .directory(URL(fileURLWithPath: "/data")))
        let relative = try CacheLocation(parsing: "cache")
        #expect(relative == .directory(URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/cache")))
        #expect(try CacheLocation(parsing: "s3://my-bucket/features/v1/") == .s3(bucket: "my-bucket", prefix: "features/v1"))
        #expect(try CacheLocation(parsing: "s3://my-bucket") == .s3(bucket: "my-bucket", prefix: ""))
        #expect(try CacheLocation(parsing: "s3://my-bucket/a").description == "s3://my-bucket/a")
        for bad in ["", "s3://", "s3://Upper/x", "s3://ab/x", "gs://bucket/x", "file://server/share"] {
            #expect(throws: CacheError.self, "\(bad)") { try CacheLocation(parsing: bad) }
        }
        #expect(try CacheLocation(parsing: "/tmp/x").makeStore() is LocalDirectoryStore)
    }
}
