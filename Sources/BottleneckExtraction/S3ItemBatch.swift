import Foundation

/// One batch of S3 objects, as a Step Functions Distributed Map hands it to a child execution: the map's
/// `ItemReader` lists the objects under a prefix (`arn:aws:states:::s3:listObjectsV2`), its `ItemBatcher` groups
/// them, and each child receives
///
///     {"Items": [{"Etag": "\"9e107d9d372bb6826bd81d3542a419d6\"", "Key": "images/cat/1.jpg",
///                 "LastModified": 1732530000, "Size": 48213}, ...],
///      "BatchInput": {"Bucket": "my-images"}}
///
/// The listing carries no bucket name, so the state machine passes it in `BatchInput` (see
/// configs/lambda/extraction.yaml). Members other than `Key`, `Size` and `Etag` are ignored.
public struct S3ItemBatch: Codable, Sendable, Equatable {
    /// One listed object.
    public struct Item: Codable, Sendable, Equatable {
        /// The object key, as listed.
        public var key: String
        /// The size in bytes S3 listed; objects larger than the extractor's limit are refused without downloading.
        public var size: Int?
        /// The listed entity tag (quoted, as S3 sends it); informational only, the cache keys on the bytes.
        public var etag: String?

        public init(key: String, size: Int? = nil, etag: String? = nil) {
            self.key = key
            self.size = size
            self.etag = etag
        }

        enum CodingKeys: String, CodingKey {
            case key = "Key", size = "Size", etag = "Etag"
        }
    }

    /// What every item of the batch shares, from the `ItemBatcher`'s `BatchInput`.
    public struct BatchInput: Codable, Sendable, Equatable {
        /// The bucket the items are listed from.
        public var bucket: String

        public init(bucket: String) {
            self.bucket = bucket
        }

        enum CodingKeys: String, CodingKey {
            case bucket = "Bucket"
        }
    }

    public var items: [Item]
    public var batchInput: BatchInput

    public init(items: [Item], batchInput: BatchInput) {
        self.items = items
        self.batchInput = batchInput
    }

    /// Decodes an invocation's payload.
    /// - Throws: `ExtractionError` naming the member that is missing or malformed.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(Self.self, from: json)
        } catch let error as DecodingError {
            let problem: String
            switch error {
            case .keyNotFound(let key, let context):
                problem = "it has no \(Self.path(context.codingPath + [key]))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                problem = "\(Self.path(context.codingPath)) is malformed (\(context.debugDescription))"
            @unknown default:
                problem = "\(error)"
            }
            throw ExtractionError("the event is not a Distributed Map item batch: \(problem). Expected"
                + #" {"Items": [{"Key": ..., "Size": ...}, ...], "BatchInput": {"Bucket": ...}}: give the map an"#
                + " S3 ItemReader (s3:listObjectsV2) and an ItemBatcher whose BatchInput names the Bucket.")
        }
    }

    /// `Items[3].Key`, as a JSONPath without the `$.`.
    private static func path(_ keys: [any CodingKey]) -> String {
        guard !keys.isEmpty else { return "the top level" }
        return keys.reduce(into: "") { path, key in
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += (path.isEmpty ? "" : ".") + key.stringValue
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case items = "Items", batchInput = "BatchInput"
    }
}
