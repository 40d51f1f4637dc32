/// Labelled bottleneck vectors: `count` rows of `dimension` floats, row-major, with one label per row.
public struct TrainingData: Sendable {
    /// Row-major `[count x dimension]`.
    public let vectors: [Float]
    /// One label per row, each in `0..<classCount`.
    public let labels: [Int]
    /// Floats per vector.
    public let dimension: Int
    /// The name of every class, indexed by label.
    public let classNames: [String]

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }

    /// Checks shapes, labels and that every feature is finite.
    /// - Throws: `TrainingError` (`shapeMismatch`, `labelOutOfRange`, `nonFiniteFeature`) naming the offending row.
    public init(vectors: [Float], labels: [Int], dimension: Int, classNames: [String]) throws {
        guard dimension > 0 else {
            throw TrainingError(.shapeMismatch, "The vector dimension is \(dimension); it must be 1 or more.")
        }
        guard !classNames.isEmpty else {
            throw TrainingError(.shapeMismatch, "No class names were given; a head needs at least one class.")
        }
        guard vectors.count == labels.count * dimension else {
            throw TrainingError(.shapeMismatch, """
                There are \(vectors.count) floats for \(labels.count) labels of dimension \(dimension) \
                (expected \(labels.count * dimension)); pass one \(dimension)-float vector per label.
                """)
        }
        for (row, label) in labels.enumerated() where !(0..<classNames.count).contains(label) {
            throw TrainingError(.labelOutOfRange, """
                Row \(row) has label \(label) but there are \(classNames.count) classes; labels must be in \
                0..<\(classNames.count).
                """)
        }
        for (index, value) in vectors.enumerated() where !value.isFinite {
            throw TrainingError(.nonFiniteFeature, """
                Row \(index / dimension) has a non-finite feature (\(value)) at column \(index % dimension); \
                re-extract that image's vector or drop the row.
                """)
        }
        self.vectors = vectors
        self.labels = labels
        self.dimension = dimension
        self.classNames = classNames
    }

    /// As above with classes named "0", "1", ... .
    public init(vectors: [Float], labels: [Int], dimension: Int, classCount: Int) throws {
        try self.init(vectors: vectors, labels: labels, dimension: dimension,
                      classNames: (0..<classCount).map(String.init))
    }

    /// Examples per class, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }
}
