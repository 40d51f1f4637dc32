import BottleneckNetwork
import Foundation
import Testing

/// S3Client against moto's S3, which checks every request's SigV4 signature like S3 does.
@Suite(.motoServer)
struct S3ClientTests {
    let bucket = MotoServer.bucket

    func server() throws -> MotoServer {
        try #require(MotoServer.current, "the suite's .motoServer trait did not start moto")
    }

    /// A key prefix no other test uses.
    func uniquePrefix(_ name: String) -> String {
        "\(name)-\(UUID().uuidString)/"
    }

    @Test func putHeadGetDeleteRoundTrip() throws {
        let s3 = try server().client()
        let key = uniquePrefix("round-trip") + "hello.txt"
        let data = Data("hello, bottleneck".utf8)
        let eTag = try s3.putObject(bucket: bucket, key: key, data: data)
        #expect(eTag.count == 32 && eTag.allSatisfy(\.isHexDigit), "an MD5 ETag without quotes, got \(eTag)")

        let info = try #require(try s3.headObject(bucket: bucket, key: key))
        #expect(info == S3ObjectInfo(key: key, size: data.count, eTag: eTag))
        #expect(try s3.getObject(bucket: bucket, key: key) == data)

        try s3.deleteObject(bucket: bucket, key: key)
        #expect(try s3.headObject(bucket: bucket, key: key) == nil)
        try s3.deleteObject(bucket: bucket, key: key)  // deleting a missing object succeeds, as in S3
    }

    @Test func binaryDataFromMemoryAndFile() throws {
        let s3 = try server().client()
        let prefix = uniquePrefix("binary")
        let everyByte = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0) })
        try s3.putObject(bucket: bucket, key: prefix + "bytes", data: everyByte)
        #expect(try s3.getObject(bucket: bucket, key: prefix + "bytes") == everyByte)
        #expect(try s3.getObject(bucket: bucket, key: prefix + "bytes", range: 4000...9999) == everyByte[4000...])
        let pastTheEnd = try #require(throws: NetworkError.self) {
            try s3.getObject(bucket: bucket, key: prefix + "bytes", range: 5000...5999)
        }
        #expect(pastTheEnd.code == .httpStatus)
        #expect(pastTheEnd.statusCode == 416)
        #expect(pastTheEnd.attempts == 1)

        var large = Data(count: 3 << 20)
        large.withUnsafeMutableBytes { buffer in
            var generator = SystemRandomNumberGenerator()
            for offset in stride(from: 0, to: buffer.count, by: 8) {
                buffer.storeBytes(of: generator.next() as UInt64, toByteOffset: offset, as: UInt64.self)
            }
        }
        let folder = try TestSupport.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("large.bin")
        try large.write(to: file)
        try s3.putObject(bucket: bucket, key: prefix + "large", contentsOf: file)
        #expect(try s3.headObject(bucket: bucket, key: prefix + "large")?.size == large.count)
        #expect(try s3.getObject(bucket: bucket, key: prefix + "large") == large)
        #expect(try s3.getObject(bucket: bucket, key: prefix + "large", range: 1000...1999) == large[1000...1999])

        try s3.putObject(bucket: bucket, key: prefix + "empty", data: Data())
        #expect(try s3.getObject(bucket: bucket, key: prefix + "empty").isEmpty)
    }

    static let awkwardKeys = [
        "with space.bin", "plus+sign", "unicode/é漢字🙂", "percent%20literal", "tilde~star*paren(1)!'",
        "query?and#hash&amp=1;semi", "equals=and,comma", "a//double/slash", "trailing/", "dots/./and/../x",
    ]

    @Test func keysWithSpecialCharactersRoundTrip() throws {
        let s3 = try server().client()
        let prefix = uniquePrefix("awkward")
        for (index, key) in Self.awkwardKeys.enumerated() {
            try s3.putObject(bucket: bucket, key: prefix + key, data: Data("\(index)".utf8))
        }
        for (index, key) in Self.awkwardKeys.enumerated() {
            #expect(try s3.getObject(bucket: bucket, key: prefix + key) == Data("\(index)".utf8), "key \(key)")
        }
        let listed = try s3.listObjects(bucket: bucket, prefix: prefix).map(\.key)
        let inByteOrder = Self.awkwardKeys.map { prefix + $0 }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(listed == inByteOrder)
        // A prefix that itself needs encoding.
        let unicode = try s3.listObjects(bucket: bucket, prefix: prefix + "unicode/é").map(\.key)
        #expect(unicode == [prefix + "unicode/é漢字🙂"])
    }

    @Test func listingFollowsContinuationTokens() throws {
        let s3 = try server().client()
        let prefix = uniquePrefix("paged")
        let keys = (0..<20).map { prefix + String(format: "key-%02d", $0) }
        for key in keys { try s3.putObject(bucket: bucket, key: key, data: Data(key.utf8)) }

        let first = try s3.listObjectsPage(bucket: bucket, prefix: prefix, maxKeys: 7)
        #expect(first.objects.map(\.key) == Array(keys[0..<7]))
        let token = try #require(first.nextContinuationToken)
        let second = try s3.listObjectsPage(bucket: bucket, prefix: prefix, continuationToken: token, maxKeys: 7)
        #expect(second.objects.map(\.key) == Array(keys[7..<14]))
        #expect(second.nextContinuationToken != nil)

        let all = try s3.listObjects(bucket: bucket, prefix: prefix, pageSize: 7)
        #expect(all.map(\.key) == keys)
        #expect(all.allSatisfy { $0.size == $0.key.utf8.count && $0.eTag.count == 32 })
        #expect(try s3.listObjects(bucket: bucket, prefix: uniquePrefix("nothing")).isEmpty)
    }

    @Test func sessionTokenIsSentAndChecked() throws {
        let server = try server()
        let s3 = try server.client(credentials: server.sessionCredentials)
        let key = uniquePrefix("session") + "object"
        try s3.putObject(bucket: bucket, key: key, data: Data("temporary".utf8))
        #expect(try s3.getObject(bucket: bucket, key: key) == Data("temporary".utf8))

        var forged = server.sessionCredentials
        forged.sessionToken = "not-the-token"
        let error = try #require(throws: NetworkError.self) {
            try server.client(credentials: forged).getObject(bucket: bucket, key: key)
        }
        #expect(error.code == .accessDenied, "\(error)")
        #expect(error.serviceCode == "InvalidToken")
        #expect(error.attempts == 1)
    }

    @Test func wrongSecretIsAccessDeniedWithAdvice() throws {
        let server = try server()
        var wrong = server.userCredentials
        wrong.secretAccessKey = "definitely-wrong"
        let error = try #require(throws: NetworkError.self) {
            try server.client(credentials: wrong).putObject(bucket: bucket, key: "never-written", data: Data())
        }
        #expect(error.code == .accessDenied)
        #expect(error.statusCode == 403)
        #expect(error.serviceCode == "SignatureDoesNotMatch")
        #expect(error.attempts == 1)
        #expect(error.description.contains("Check the credentials (access key \(wrong.accessKeyID)"))
        #expect(error.description.contains("region (us-east-1)"))
    }

    @Test func unknownAccessKeyIsAccessDenied() throws {
        let unknown = AWSCredentials(accessKeyID: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: "x", source: "test")
        let error = try #require(throws: NetworkError.self) {
            try server().client(credentials: unknown).listObjectsPage(bucket: bucket)
        }
        #expect(error.code == .accessDenied)
        #expect(error.serviceCode == "InvalidAccessKeyId")
    }

    @Test func missingBucketIsNamed() throws {
        let error = try #require(throws: NetworkError.self) {
            try server().client().getObject(bucket: "no-such-bucket-here", key: "k")
        }
        #expect(error.code == .noSuchBucket)
        #expect(error.statusCode == 404)
        #expect(error.description.contains("'no-such-bucket-here' does not exist"))
        #expect(error.description.contains(try server().endpoint))
        #expect(error.attempts == 1)
    }

    @Test func missingKeyIsNotFound() throws {
        let s3 = try server().client()
        let key = uniquePrefix("missing") + "nothing-here"
        let error = try #require(throws: NetworkError.self) { try s3.getObject(bucket: bucket, key: key) }
        #expect(error.code == .notFound)
        #expect(error.serviceCode == "NoSuchKey")
        #expect(error.description.contains(key))
        #expect(error.attempts == 1)
        #expect(try s3.headObject(bucket: bucket, key: key) == nil)
    }

    @Test func objectsWrittenByUsAreReadByBoto3() throws {
        let server = try server()
        let s3 = try server.client()
        let prefix = uniquePrefix("to-boto3")
        let keys = [prefix + "plain", prefix + "with space+plus/é🙂"]
        let payload = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for key in keys { try s3.putObject(bucket: bucket, key: key, data: payload) }

        let output = try server.runBoto3("""
            import hashlib, json
            def sha256(key):
                return hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=sys.argv[1])["Contents"]
            print(json.dumps([[o["Key"], o["Size"], sha256(o["Key"])] for o in listed]))
            """, arguments: [prefix])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]])
        #expect(rows.compactMap { $0.first as? String } == keys.sorted())
        #expect(rows.allSatisfy { ($0[1] as? Int) == payload.count })
        let hashes = Set(rows.compactMap { $0[2] as? String })
        #expect(hashes.count == 1)
        let expected = try server.runBoto3(
            "import hashlib; print(hashlib.sha256(bytes((i * 31) % 256 for i in range(100000))).hexdigest())")
        #expect(hashes.first == expected.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func objectsWrittenByBoto3AreReadByUs() throws {
        let server = try server()
        let prefix = uniquePrefix("from-boto3")
        _ = try server.runBoto3("""
            for i, key in enumerate(["a", "b c+d/é", "binary"]):
                s3.put_object(Bucket=bucket, Key=sys.argv[1] + key, Body=bytes(range(256)) * (i + 1))
            """, arguments: [prefix])
        let s3 = try server.client()
        let listed = try s3.listObjects(bucket: bucket, prefix: prefix)
        #expect(listed.map(\.key) == [prefix + "a", prefix + "b c+d/é", prefix + "binary"])
        for (index, object) in listed.enumerated() {
            let expected = Data((0..<(index + 1)).flatMap { _ in (0...255).map { UInt8($0) } })
            #expect(try s3.getObject(bucket: bucket, key: object.key) == expected)
            #expect(object.size == expected.count)
        }
    }
}
