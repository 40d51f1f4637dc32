import BottleneckCache
import BottleneckDatasets
import Foundation

/// The cached vectors of one split of a dataset, with their labels: what a head is trained or evaluated on.
public struct LabelledVectors: Sendable {
    /// `[count, dimension]`, row-major, in the dataset's item order.
    public var vectors: [Float]
    /// Index into the dataset's sorted labels.
    public var labels: [Int]
    /// The image file of each row.
    public var paths: [URL]
    public var dimension: Int

    public var count: Int { labels.count }
}

extension FeatureExtractor {
    /// The vectors of every image of `split`, read from the cache.
    /// - Throws: when images of the split have no cached vector yet, saying how many and to run `extract`.
    public func labelledVectors(in split: DatasetSplit) throws -> LabelledVectors {
        let items = dataset.items(in: split)
        let labelIndex = dataset.labelIndex
        let hashes = try items.map { try ImageHash(hex: $0.contentHash) }
        let found = try cache.lookup(Set(hashes))
        var result = LabelledVectors(vectors: [], labels: [], paths: [], dimension: namespace.dimension)
        result.vectors.reserveCapacity(items.count * namespace.dimension)
        var missing: [URL] = []
        for (item, hash) in zip(items, hashes) {
            guard let vector = found[hash] else {
                missing.append(item.path)
                continue
            }
            result.vectors += vector
            result.labels.append(labelIndex[item.label]!)
            result.paths.append(item.path)
        }
        guard missing.isEmpty else {
            throw ExtractionError("\(missing.count) of the \(items.count) \(split) images have no cached vector"
                + " (e.g. \(missing[0].path)); run `bottleneck extract` with the same data, backbone and cache first.")
        }
        return result
    }
}
