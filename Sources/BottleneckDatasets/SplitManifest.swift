import Foundation

/// The JSON manifest ``Dataset/write(to:)`` writes: the dataset's root, classes, every image with its split and
/// hash, and the report. Paths are relative to `root` when inside it.
///
///     {"format": "bottleneck-dataset-manifest", "version": 1, "root": "/data/flowers", "layout": "classFolders",
///      "policy": {"train": 0.8, "validation": 0.1, "test": 0.1}, "labels": ["daisy", ...],
///      "items": [{"path": "daisy/1.jpg", "label": "daisy", "split": "train", "sha256": "..."}, ...],
///      "report": {"skippedCounts": {"hidden": 1}, "skipped": [...], ...}}
struct SplitManifest: Codable {
    struct Item: Codable {
        let path: String
        let label: String
        let split: DatasetSplit
        let sha256: String
    }

    static let formatName = "bottleneck-dataset-manifest"

    var format = SplitManifest.formatName
    var version = 1
    let root: String
    let layout: Dataset.Layout
    let policy: SplitPolicy
    let hashedSplits: [DatasetSplit]
    let labels: [String]
    let counts: [String: [String: Int]]
    let items: [Item]
    let report: DatasetReport

    init(_ dataset: Dataset) {
        root = dataset.root.standardizedFileURL.path
        layout = dataset.layout
        policy = dataset.policy
        hashedSplits = dataset.hashedSplits
        labels = dataset.labels
        counts = dataset.counts.mapValues { perSplit in
            Dictionary(uniqueKeysWithValues: perSplit.map { ($0.key.rawValue, $0.value) })
        }
        items = dataset.items.map { item in
            Item(path: dataset.displayPath(of: item.path), label: item.label, split: item.split,
                 sha256: item.contentHash)
        }
        report = dataset.report
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    static func decode(_ data: Data, from url: URL) throws -> SplitManifest {
        let manifest: SplitManifest
        do {
            manifest = try JSONDecoder().decode(SplitManifest.self, from: data)
        } catch {
            throw DatasetError(.malformedManifest, "\(url.path) is not a dataset manifest written by bottleneck "
                               + "(\(error)); a hand-written manifest should be CSV with path,label columns")
        }
        guard manifest.format == formatName, manifest.version == 1 else {
            throw DatasetError(.malformedManifest, "\(url.path) is a '\(manifest.format)' version "
                               + "\(manifest.version) file, not a \(formatName) version 1")
        }
        return manifest
    }
}

extension Dataset {
    /// Writes the split manifest: JSON (``SplitManifest``: root, classes, every image with label, split and
    /// SHA-256, the report) or, when the name ends in `.csv`, CSV with `path,label,split,sha256` columns. Either
    /// can be read back with ``load(manifest:options:)``, which keeps the recorded splits.
    ///
    /// The file is written to a temporary name and renamed, so a reader never sees half of it.
    ///
    /// - Throws: ``DatasetError/Code/writeFailed``.
    public func write(to url: URL) throws {
        do {
            let data = url.pathExtension.lowercased() == "csv"
                ? Data(ManifestCSV.text(of: self, relativeTo: url.deletingLastPathComponent()).utf8)
                : try SplitManifest(self).encoded()
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw DatasetError(.writeFailed, "cannot write the manifest \(url.path): \(error.localizedDescription)")
        }
    }
}
