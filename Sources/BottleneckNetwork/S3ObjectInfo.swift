/// What S3 says about one object in a listing or a HEAD response.
public struct S3ObjectInfo: Sendable, Equatable {
    /// The object key, decoded (exactly as it was written).
    public var key: String
    /// The size in bytes.
    public var size: Int
    /// The entity tag without its quotes: the hex MD5 of the content for single-part uploads.
    public var eTag: String

    /// Creates a description.
    public init(key: String, size: Int, eTag: String) {
        self.key = key
        self.size = size
        self.eTag = eTag
    }
}
