/// One page of a ListObjectsV2 listing.
public struct S3ListPage: Sendable {
    /// The objects of this page, in key order (UTF-8 byte order).
    public var objects: [S3ObjectInfo]
    /// Pass this to the next `listObjectsPage` call to get the next page; nil on the last page.
    public var nextContinuationToken: String?

    /// Creates a page.
    public init(objects: [S3ObjectInfo], nextContinuationToken: String?) {
        self.objects = objects
        self.nextContinuationToken = nextContinuationToken
    }
}
