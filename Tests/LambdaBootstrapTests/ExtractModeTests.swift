import BottleneckNetwork
import Foundation
import Testing

/// `BOTTLENECK_MODE=extract` under the emulator against moto's S3: a Distributed Map item batch in, its images'
/// vectors into the S3 cache, a summary out; a second call finds them cached; a malformed batch is a function error.
@Suite(.serialized, .enabled(if: BootstrapFixtures.hasPrerequisites
           && (FileManager.default.isExecutableFile(atPath: MotoServer.executable.path) || BootstrapFixtures.isCI),
       "needs the emulator (make rie) and .venv/bin/moto_server (make venv)"))
struct ExtractModeTests {
    @Test func batchGoesIntoTheS3Cache() throws {
        let folder = try BootstrapFixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.onnx")
        try BootstrapFixtures.writeModel(to: model)
        let moto = try MotoServer()
        defer { moto.stop() }
        try moto.createBucket("images")
        try moto.createBucket("features")
        let s3 = try moto.client()
        let red = try BootstrapFixtures.png(red: 220, green: 20, blue: 20)
        try s3.putObject(bucket: "images", key: "train/red/1.png", data: red)
        try s3.putObject(bucket: "images", key: "train/red/copy.png", data: red)
        try s3.putObject(bucket: "images", key: "train/blue/1.png",
                         data: BootstrapFixtures.png(red: 20, green: 20, blue: 220))
        try s3.putObject(bucket: "images", key: "train/notes.txt", data: Data("not an image".utf8))

        let emulator = try RuntimeEmulator(environment: moto.environment.merging([
            "BOTTLENECK_MODE": "extract", "BOTTLENECK_MODEL": model.path, "BOTTLENECK_TENSOR": "features",
            "BOTTLENECK_CACHE": "s3://features/cache", "BOTTLENECK_THREADS": "1"]) { $1 })
        defer { emulator.stop() }
        let batch = #"""
            {"Items": [{"Key": "train/red/1.png", "Size": 100, "Etag": "\"x\""}, {"Key": "train/red/copy.png"},
                       {"Key": "train/blue/1.png"}, {"Key": "train/notes.txt"}, {"Key": "train/missing.png"}],
             "BatchInput": {"Bucket": "images"}}
            """#
        let first = try JSONSerialization.jsonObject(with: emulator.invoke(json: batch).body) as? [String: Any]
        let summary = try #require(first, "\(emulator.log)")
        #expect(summary["processed"] as? Int == 5, "\(summary)")
        #expect(summary["computed"] as? Int == 2, "two distinct images: \(summary)")
        #expect(summary["alreadyCached"] as? Int == 1, "the copy shares the red image's vector: \(summary)")
        let failed = (summary["failed"] as? [[String: Any]])?.compactMap { $0["key"] as? String }.sorted()
        #expect(failed == ["train/missing.png", "train/notes.txt"], "\(summary)")
        let listing = try s3.listObjects(bucket: "features", prefix: "cache/")
        #expect(!listing.isEmpty, "nothing was written to the S3 cache")

        let again = try #require(try JSONSerialization.jsonObject(with: emulator.invoke(json: batch).body)
            as? [String: Any])
        #expect(again["computed"] as? Int == 0 && again["alreadyCached"] as? Int == 3, "\(again)")

        let malformed = try #require(try JSONSerialization.jsonObject(
            with: emulator.invoke(json: #"{"url": "http://127.0.0.1/x.png"}"#).body) as? [String: Any])
        #expect(malformed["errorType"] as? String == "Extract.InvalidBatch", "\(malformed)")
        let lines = emulator.bootstrapLogLines.filter { $0["message"] as? String == "invocation" }
        #expect(lines.count == 3 && lines.allSatisfy { $0["event"] as? String == "extract" }, "\(emulator.log)")
    }
}
