import BottleneckImages
import Foundation

/// A labelled image dataset: every usable image with its class and split, the classes, and a report of what was
/// left out. Made by ``scan(folder:options:)`` or ``load(manifest:options:)``; saved with ``write(to:)``.
///
/// ## Layouts
/// - Class folders: `root/<label>/**/<image>`. The label is the folder's name exactly as the file system spells it
///   (Unicode kept byte for byte); files may sit in nested subfolders. Hidden files and folders (names starting
///   with a dot) and files whose first bytes are not a JPEG or PNG signature are skipped and counted; the extension
///   does not matter. Symbolic links are followed, each folder entered once.
/// - Split folders: when the top level holds `train/`, `val/` (or `validation/`, `valid/`) or `test/`, those
///   fix the split and the class folders are inside each. A split without its folder is carved out of `train/`
///   by the hash rule below (the policy's fractions rescaled over train and the missing splits); a policy
///   fraction of 0 leaves that split empty instead.
/// - A CSV manifest (`path,label[,split]`, see ``load(manifest:options:)``), or the JSON manifest written by
///   ``write(to:)``.
///
/// ## The split rule
/// Images whose split is not fixed are placed by the SHA-256 of their bytes:
/// 1. Hash split. The first 8 bytes of the hash, read as a big-endian number and divided by 2^64 (rounded down
///    to 53 bits), give a position p in [0, 1). With fractions t, v, s: p < t is train, p < t + v is validation,
///    else test (fractions rescaled over the splits the hash chooses among, see Layouts). This depends on the
///    image's bytes alone, so identical images always share a split, and adding, removing or renaming other
///    images never moves an image.
/// 2. Minimum rule, per class, counting distinct images (copies count once). A class with at least one movable
///    image gets a training image; a class with at least 3 gets a validation and a test image too (for each split
///    with a non-zero fraction). For each empty split, in the order train, test, validation, the image whose
///    position p is nearest that split's interval moves into it (ties: the smaller hash), chosen among images whose
///    move leaves none of the class's guaranteed splits empty. Images also present under another label are never moved (so that all
///    copies stay together); they are listed as conflicts.
///
/// The one exception to stability: images moved by the minimum rule are listed in ``DatasetReport/reassigned``,
/// and only they can change split when images are added — they return to their hash split once their class
/// gets an image whose hash falls in that split, or another image becomes the nearest. Likewise a class of 2
/// images growing to 3 may move one of them. Classes large enough to have a hash-placed image in every split
/// (nearly all with a few dozen images) never see a move.
public struct Dataset: Sendable {
    /// Where the images came from.
    public enum Layout: String, Sendable, Codable {
        /// `root/<label>/...`, split by hash.
        case classFolders
        /// `root/{train,val,test}/<label>/...`.
        case splitFolders
        /// A CSV manifest (`path,label[,split]`).
        case csvManifest
        /// A JSON manifest written by ``Dataset/write(to:)``.
        case jsonManifest
    }

    /// The data folder, or the folder paths in a manifest are relative to.
    public let root: URL
    public let layout: Layout
    /// The fractions used for images whose split was not fixed.
    public let policy: SplitPolicy
    /// The splits the hash chose among (the policy's fractions rescaled over them); empty when no image was
    /// placed by hash.
    public let hashedSplits: [DatasetSplit]
    /// Every class, sorted (see ``DatasetItem/label``), including classes left with no usable image.
    public let labels: [String]
    /// The usable images, sorted by label, then path.
    public private(set) var items: [DatasetItem]
    /// What was left out, and why.
    public private(set) var report: DatasetReport

    init(root: URL, layout: Layout, policy: SplitPolicy, hashedSplits: [DatasetSplit], labels: [String],
         items: [DatasetItem], report: DatasetReport) {
        self.root = root
        self.layout = layout
        self.policy = policy
        self.hashedSplits = hashedSplits
        self.labels = labels
        self.items = items
        self.report = report
    }

    /// The images of one split, in dataset order.
    public func items(in split: DatasetSplit) -> [DatasetItem] {
        items.filter { $0.split == split }
    }

    /// The number of images per class and split (classes with no image of a split have no entry for it).
    public var counts: [String: [DatasetSplit: Int]] {
        items.reduce(into: [:]) { $0[$1.label, default: [:]][$1.split, default: 0] += 1 }
    }

    /// Each label's position in ``labels``: the class index a head is trained with.
    public var labelIndex: [String: Int] {
        Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
    }

    /// A path as the report shows it: relative to ``root`` when inside it, else absolute.
    public func displayPath(of url: URL) -> String {
        Self.path(of: url, relativeTo: root)
    }

    /// Removes an image that turned out unusable (the extractor could not decode it) and lists it in the report.
    ///
    /// - Returns: whether an item had that path.
    @discardableResult
    public mutating func recordFailure(at path: URL, reason: SkippedFile.Reason, detail: String? = nil) -> Bool {
        let before = items.count
        items.removeAll { $0.path == path }
        report.record(SkippedFile(path: displayPath(of: path), reason: reason, detail: detail))
        return items.count < before
    }

    /// Removes an image the extractor could not decode and lists it in the report with the decoder's reason.
    ///
    /// - Returns: whether an item had that path.
    @discardableResult
    public mutating func recordFailure(at path: URL, error: ImageError) -> Bool {
        recordFailure(at: path, reason: SkippedFile.Reason(error), detail: error.reason)
    }

    /// Checks that the dataset can be trained on: some image is usable, and every class has a training image.
    ///
    /// - Throws: ``DatasetError/Code/noUsableImages`` with what was skipped, or
    ///   ``DatasetError/Code/classWithoutTrainingImages`` naming each such class and where its images went.
    public func validate() throws {
        guard !items.isEmpty else {
            let skipped = report.skipped.isEmpty ? "the folder holds no files below a class folder"
                : "\(report.skipped.count) skipped: "
                + report.skippedCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.phrase)" }
                    .joined(separator: ", ")
            throw DatasetError(.noUsableImages, "no usable image in \(root.path) (\(skipped)). Put JPEG or PNG "
                               + "images in \(root.path)/<class name>/, one folder per class")
        }
        let counts = counts
        let starved = labels.filter { (counts[$0]?[.train] ?? 0) == 0 }
        guard starved.isEmpty else {
            let details = starved.map { label in
                let others = DatasetSplit.allCases.compactMap { split in
                    counts[label]?[split].map { "\($0) \(split.rawValue)" }
                }
                return "'\(label)' (" + (others.isEmpty ? "no usable image" : others.joined(separator: ", ")) + ")"
            }
            let hint = layout == .splitFolders ? "add its images to train/\(starved[0])/"
                : "add images to it, or remove it"
            throw DatasetError(.classWithoutTrainingImages,
                               "no training image for class\(starved.count == 1 ? "" : "es") "
                               + details.joined(separator: ", ") + ": \(hint)")
        }
    }

    /// The classes with their image counts per split, then the report's summary.
    public func summary(limit: Int = 20) -> String {
        var lines = ["\(root.path): \(labels.count) class\(labels.count == 1 ? "" : "es"), \(items.count) image"
                     + "\(items.count == 1 ? "" : "s") (\(layoutDescription))"]
        let counts = counts
        let header = ["class"] + DatasetSplit.allCases.map(\.rawValue)
        var rows = labels.map { label in
            [label] + DatasetSplit.allCases.map { String(counts[label]?[$0] ?? 0) }
        }
        rows.append(["total"] + DatasetSplit.allCases.map { split in String(items.count { $0.split == split }) })
        let width = ([header] + rows).map { $0[0].count }.max()!
        let numberWidths = (1..<header.count).map { column in ([header] + rows).map { $0[column].count }.max()! }
        for row in [header] + rows {
            let name = row[0] + String(repeating: " ", count: width - row[0].count)
            let numbers = (1..<row.count).map { column in
                String(repeating: " ", count: numberWidths[column - 1] - row[column].count) + row[column]
            }
            lines.append("  " + ([name] + numbers).joined(separator: "  "))
        }
        if labels.count == 1 {
            lines.append("Only one class: a classifier needs at least two to learn anything.")
        }
        lines.append(report.summary(limit: limit))
        return lines.joined(separator: "\n")
    }

    private var layoutDescription: String {
        let hashed = hashedSplits.map(\.rawValue).joined(separator: "/")
        let fractions = hashedSplits.map { String(format: "%g", (policy[$0] * 1000).rounded() / 10) }
            .joined(separator: "/")
        switch layout {
        case .classFolders:
            return hashedSplits.isEmpty ? "class folders" : "class folders, split by content hash \(fractions)"
        case .splitFolders:
            let carved = hashedSplits.filter { $0 != .train }
            return carved.isEmpty ? "split folders"
                : "split folders; " + carved.map(\.rawValue).joined(separator: " and ")
                    + " carved from train/ by content hash, \(hashed) \(fractions)"
        case .csvManifest, .jsonManifest:
            return hashedSplits.isEmpty ? "manifest with splits"
                : "manifest; rows without a split placed by content hash \(fractions)"
        }
    }

    /// `url`'s path relative to `folder` when inside it, else its absolute path.
    static func path(of url: URL, relativeTo folder: URL) -> String {
        let path = url.standardizedFileURL.path
        let base = folder.standardizedFileURL.path
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard path.utf8.starts(with: prefix.utf8) else { return path }
        return String(decoding: path.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    }
}
