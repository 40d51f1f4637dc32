import Foundation

/// One usable image of a dataset: where it is, its class, the split it belongs to and the SHA-256 of its bytes.
///
/// "Usable" means the file's first bytes are a JPEG or PNG signature; whether the whole file decodes is only known
/// when the extractor reads it (see ``Dataset/recordFailure(at:reason:)``).
public struct DatasetItem: Sendable, Hashable {
    /// The image file, absolute, as the file system spells it (symbolic links in the path are kept).
    public let path: URL
    /// The class: the name of the folder below the data root (or split folder), or the manifest's label, verbatim.
    public let label: String
    /// The split the image belongs to.
    public let split: DatasetSplit
    /// SHA-256 of the file's bytes, lower-case hex. Identical images have identical hashes.
    public let contentHash: String

    public init(path: URL, label: String, split: DatasetSplit, contentHash: String) {
        self.path = path
        self.label = label
        self.split = split
        self.contentHash = contentHash
    }
}
