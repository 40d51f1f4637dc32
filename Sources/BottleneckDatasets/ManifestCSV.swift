import Foundation

/// The CSV form of a manifest: a header line naming `path` and `label` (and optionally `split`) columns, then one
/// row per image.
enum ManifestCSV {
    struct Row {
        let line: Int
        let path: String
        let label: String
        let split: DatasetSplit?
    }

    /// The rows of a CSV manifest.
    ///
    /// - Throws: ``DatasetError/Code/malformedManifest`` naming the line: bad quoting, no header with `path` and
    ///   `label`, a row with too few fields, an empty path or label, or an unknown split.
    static func rows(of data: Data, manifest: URL) throws -> [Row] {
        func malformed(_ message: String) -> DatasetError {
            DatasetError(.malformedManifest, "\(manifest.path): \(message)")
        }
        let records: [CSV.Record]
        do {
            records = try CSV.records(in: Array(data))
        } catch {
            throw malformed(error.message)
        }
        guard let header = records.first else {
            throw malformed("the manifest is empty: it needs a header line `path,label`, then one line per image")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let pathColumn = names.firstIndex(of: "path"), let labelColumn = names.firstIndex(of: "label") else {
            throw malformed("the header line (\(header.fields.joined(separator: ","))) must name a `path` and a "
                            + "`label` column, e.g. `path,label`")
        }
        let splitColumn = names.firstIndex(of: "split")
        let needed = max(pathColumn, labelColumn, splitColumn ?? 0) + 1
        return try records.dropFirst().map { record in
            guard record.fields.count >= needed else {
                throw malformed("line \(record.line) has \(record.fields.count) field"
                                + "\(record.fields.count == 1 ? "" : "s"), the header names \(needed)")
            }
            let path = record.fields[pathColumn]
            let label = record.fields[labelColumn]
            guard !path.isEmpty else { throw malformed("line \(record.line) has an empty path") }
            guard !label.isEmpty else { throw malformed("line \(record.line) has an empty label") }
            var split: DatasetSplit?
            if let splitColumn, !record.fields[splitColumn].trimmingCharacters(in: .whitespaces).isEmpty {
                guard let value = DatasetSplit(manifestValue: record.fields[splitColumn]) else {
                    throw malformed("line \(record.line) has split '\(record.fields[splitColumn])': use train, "
                                    + "validation (or val), test, or leave it empty to split by content hash")
                }
                split = value
            }
            return Row(line: record.line, path: path, label: label, split: split)
        }
    }

    /// `path,label,split,sha256` with one row per item; paths relative to `folder` when inside it.
    static func text(of dataset: Dataset, relativeTo folder: URL) -> String {
        var text = CSV.line(["path", "label", "split", "sha256"])
        for item in dataset.items {
            text += CSV.line([Dataset.path(of: item.path, relativeTo: folder), item.label, item.split.rawValue,
                              item.contentHash])
        }
        return text
    }
}
