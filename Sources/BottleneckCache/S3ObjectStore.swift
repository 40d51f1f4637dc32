import BottleneckNetwork
import Foundation

/// Objects in an S3 bucket under a key prefix: key `a/b` is `s3://<bucket>/<prefix>/a/b`.
///
/// An S3 PUT replaces an object whole and atomically, which is what the cache's commit protocol needs (upload the
/// shard, then the manifest). Range reads use HTTP `Range`, so opening a cache downloads only shard headers and
/// indexes. Failures are thrown as ``CacheError/Code/storeFailure`` with the S3 client's explanation.
public struct S3ObjectStore: ObjectStore {
    public let client: S3Client
    public let bucket: String
    /// Key prefix without leading or trailing `/`; empty for the bucket's root.
    public let prefix: String

    public init(client: S3Client, bucket: String, prefix: String = "") {
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
    }

    /// A store with the AWS configuration found in `environment` (credentials, region, `AWS_ENDPOINT_URL_S3`).
    public init(bucket: String, prefix: String = "", environment: [String: String]) throws {
        do {
            let aws = try AWSConfiguration.load(environment: environment)
            self.init(client: try S3Client(aws: aws), bucket: bucket, prefix: prefix)
        } catch {
            throw CacheError(.storeFailure, "cannot use s3://\(bucket)/\(prefix): \(error)")
        }
    }

    public func location(of key: String) -> String { "s3://\(bucket)/\(objectKey(key))" }

    public func put(_ key: String, _ bytes: Data) throws {
        try validateObjectKey(key)
        do {
            try client.putObject(bucket: bucket, key: objectKey(key), data: bytes)
        } catch {
            throw failure("upload", key, error)
        }
    }

    public func get(_ key: String) throws -> Data? {
        try validateObjectKey(key)
        do {
            return try client.getObject(bucket: bucket, key: objectKey(key))
        } catch where error.code == .notFound {
            return nil
        } catch {
            throw failure("download", key, error)
        }
    }

    public func get(_ key: String, range: Range<Int>) throws -> Data? {
        try validateObjectKey(key)
        guard !range.isEmpty else { return try exists(key) ? Data() : nil }
        do {
            return try client.getObject(bucket: bucket, key: objectKey(key), range: range.lowerBound...range.upperBound - 1)
        } catch where error.code == .notFound {
            return nil
        } catch where error.statusCode == 416 {
            return Data()  // the range starts past the end of an existing object
        } catch {
            throw failure("download", key, error)
        }
    }

    public func list(prefix listPrefix: String) throws -> [String] {
        let fullPrefix = prefix.isEmpty ? listPrefix : prefix + "/" + listPrefix
        let objects: [S3ObjectInfo]
        do {
            objects = try client.listObjects(bucket: bucket, prefix: fullPrefix)
        } catch {
            throw CacheError(.storeFailure, "cannot list s3://\(bucket)/\(fullPrefix): \(error)")
        }
        let strip = prefix.isEmpty ? 0 : prefix.count + 1
        return objects.map(\.key).filter { $0.hasPrefix(fullPrefix) }.map { String($0.dropFirst(strip)) }
            .filter { (try? validateObjectKey($0)) != nil }
    }

    public func delete(_ key: String) throws {
        try validateObjectKey(key)
        do {
            try client.deleteObject(bucket: bucket, key: objectKey(key))
        } catch {
            throw failure("delete", key, error)
        }
    }

    private func exists(_ key: String) throws -> Bool {
        do {
            return try client.headObject(bucket: bucket, key: objectKey(key)) != nil
        } catch {
            throw failure("check", key, error)
        }
    }

    private func objectKey(_ key: String) -> String { prefix.isEmpty ? key : prefix + "/" + key }

    private func failure(_ action: String, _ key: String, _ error: NetworkError) -> CacheError {
        CacheError(.storeFailure, "cannot \(action) \(location(of: key)): \(error)")
    }
}
