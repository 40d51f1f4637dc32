/// What a scan left out or found suspicious: skipped files with reasons, identical images under different labels
/// (or in different split folders), and images the split moved to give every class a validation and a test image.
///
/// JSON-encodable (it is part of the manifest ``Dataset/write(to:)`` writes); ``summary`` is the printable form.
public struct DatasetReport: Sendable, Codable, Equatable {
    /// Files identical byte for byte that disagree on their label or split.
    public struct Conflict: Sendable, Codable, Equatable {
        /// One of the identical files.
        public struct File: Sendable, Codable, Equatable {
            /// Relative to the dataset root when inside it, else absolute.
            public let path: String
            public let label: String
            public let split: DatasetSplit
        }

        /// SHA-256 of the shared bytes.
        public let contentHash: String
        /// Every file with these bytes, sorted by path.
        public let files: [File]

        /// The distinct labels, sorted; more than one means the same picture is taught as two classes.
        public var labels: [String] { Array(Set(files.map(\.label))).sorted() }
        /// The distinct splits; more than one means a test or validation image is also trained on.
        public var splits: [DatasetSplit] { Array(Set(files.map(\.split))).sorted() }

        /// One line, e.g. `same bytes under labels cat, dog: cat/1.png (train), dog/7.png (train)`.
        public var line: String {
            let what = labels.count > 1 ? "labels " + labels.joined(separator: ", ")
                : "splits " + splits.map(\.rawValue).joined(separator: ", ")
            return "same bytes under \(what): "
                + files.map { "\($0.path) (\($0.split.rawValue))" }.joined(separator: ", ")
        }
    }

    /// An image whose hash picked one split but which the minimum rule moved to another (see ``Dataset``).
    public struct Reassignment: Sendable, Codable, Equatable {
        /// Relative to the dataset root when inside it, else absolute.
        public let path: String
        public let label: String
        /// The split its hash picked.
        public let from: DatasetSplit
        /// The split it was moved to.
        public let to: DatasetSplit
    }

    /// Skipped files and folders, sorted by path.
    public internal(set) var skipped: [SkippedFile] = []
    /// Identical images with different labels or splits, sorted by their first path.
    public internal(set) var conflicts: [Conflict] = []
    /// Images moved by the minimum rule, sorted by path.
    public internal(set) var reassigned: [Reassignment] = []
    /// Files that are exact copies of another file with the same label (kept, always in the same split).
    public internal(set) var duplicateCopies: Int = 0

    public init() {}

    /// How many files were skipped for each reason.
    public var skippedCounts: [SkippedFile.Reason: Int] {
        skipped.reduce(into: [:]) { $0[$1.reason, default: 0] += 1 }
    }

    /// Adds a skipped file, keeping the list sorted by path.
    mutating func record(_ file: SkippedFile) {
        let index = skipped.firstIndex(where: { file.path.precedesInDatasetOrder($0.path) })
        skipped.insert(file, at: index ?? skipped.endIndex)
    }

    /// `Skipped 3 files: 2 not an image, 1 hidden`, then up to `limit` skipped files, conflicts and reassignments,
    /// one per line.
    public func summary(limit: Int = 20) -> String {
        var lines: [String] = []
        if skipped.isEmpty {
            lines.append("Skipped nothing.")
        } else {
            let counts = skippedCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.phrase)" }
            lines.append("Skipped \(skipped.count) file\(skipped.count == 1 ? "" : "s"): "
                         + counts.joined(separator: ", "))
            lines += skipped.prefix(limit).map { "  " + $0.line }
            if skipped.count > limit { lines.append("  ... and \(skipped.count - limit) more") }
        }
        if duplicateCopies > 0 {
            lines.append("\(duplicateCopies) file\(duplicateCopies == 1 ? " is an exact copy" : "s are exact copies")"
                         + " of another image of the same class (kept in the same split).")
        }
        if !conflicts.isEmpty {
            lines.append("Conflicts: \(conflicts.count) set\(conflicts.count == 1 ? "" : "s") of identical images"
                         + " with different labels or splits:")
            lines += conflicts.prefix(limit).map { "  " + $0.line }
            if conflicts.count > limit { lines.append("  ... and \(conflicts.count - limit) more") }
        }
        if !reassigned.isEmpty {
            lines.append("Moved \(reassigned.count) image\(reassigned.count == 1 ? "" : "s") from their hash split so"
                         + " that every class has a training image, and classes of 3 or more one in every split:")
            lines += reassigned.prefix(limit).map {
                "  \($0.path): \($0.from.rawValue) -> \($0.to.rawValue)"
            }
            if reassigned.count > limit { lines.append("  ... and \(reassigned.count - limit) more") }
        }
        return lines.joined(separator: "\n")
    }
}

extension DatasetReport {
    private enum CodingKeys: String, CodingKey {
        case skippedCounts, skipped, conflicts, reassigned, duplicateCopies
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        skipped = try container.decode([SkippedFile].self, forKey: .skipped)
        conflicts = try container.decode([Conflict].self, forKey: .conflicts)
        reassigned = try container.decode([Reassignment].self, forKey: .reassigned)
        duplicateCopies = try container.decode(Int.self, forKey: .duplicateCopies)
    }

    /// Encodes the lists and, for readers of the JSON, the per-reason counts (`{"hidden": 2, ...}`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let counts = Dictionary(uniqueKeysWithValues: skippedCounts.map { ($0.key.rawValue, $0.value) })
        try container.encode(counts, forKey: .skippedCounts)
        try container.encode(skipped, forKey: .skipped)
        try container.encode(conflicts, forKey: .conflicts)
        try container.encode(reassigned, forKey: .reassigned)
        try container.encode(duplicateCopies, forKey: .duplicateCopies)
    }
}
