import Foundation

extension Dataset {
    /// Opens data the way `--data` takes it: an existing file is loaded as a manifest (JSON by its `.json`
    /// extension, else CSV), anything else is scanned as a folder (and a missing one reported as such).
    ///
    /// - Throws: as ``scan(folder:options:)`` or ``load(manifest:options:)``.
    public static func open(_ url: URL, options: ScanOptions = ScanOptions()) throws -> Dataset {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
            return try load(manifest: url, options: options)
        }
        return try scan(folder: url, options: options)
    }

    /// Scans a data folder: `folder/<label>/**/<image>`, or `folder/{train,val,test}/<label>/**/<image>`.
    ///
    /// Only the first bytes of each file are checked (and the whole file hashed); nothing is decoded. Files that
    /// are hidden, not JPEG/PNG or unreadable are skipped and listed in ``report``.
    ///
    /// - Throws: ``DatasetError`` when the folder is missing or unreadable, the top level mixes split folders with
    ///   class folders, two labels differ only in Unicode normalization, or the split policy is invalid. An
    ///   empty result is not an error here: call ``validate()``.
    public static func scan(folder: URL, options: ScanOptions = ScanOptions()) throws -> Dataset {
        try options.split.validate()
        let folder = folder.absoluteURL.standardizedFileURL
        var walker = FolderWalker(root: folder)
        try walker.walk()
        let layout: Layout
        let hashedSplits: Set<DatasetSplit>
        if walker.splitFolders.isEmpty {
            layout = .classFolders
            hashedSplits = Set(DatasetSplit.allCases)
        } else {
            layout = .splitFolders
            // Images in train/ are shared by hash between train and the splits that have no folder.
            hashedSplits = walker.splitFolders.contains(.train)
                ? Set(DatasetSplit.allCases).subtracting(walker.splitFolders).union([.train]) : []
        }
        let files = walker.candidates.map { candidate in
            PendingFile(path: candidate.path, label: candidate.label,
                        fixedSplit: candidate.folderSplit == .train ? nil : candidate.folderSplit)
        }
        return try assemble(root: folder, layout: layout, policy: options.split, hashedSplits: hashedSplits,
                            labels: walker.labels, files: files, skipped: walker.skipped)
    }

    /// Loads a manifest: a CSV file, or a JSON manifest written by ``write(to:)`` (by the `.json` extension).
    ///
    /// The CSV has a header line naming a `path` and a `label` column, in any order and any case; a `split`
    /// column (`train`, `val`/`validation`, `test`, or empty to let the hash decide) is honoured, other columns
    /// are ignored. Fields follow RFC 4180: quoted with `"` when they hold commas, quotes (doubled) or line breaks.
    /// Paths are absolute or relative to the manifest's folder. Rows are trusted as listed (a hidden name is
    /// kept), but each file is still checked: missing ones and non-images are skipped and reported. A JSON
    /// manifest keeps its recorded splits and policy; `options` apply to CSV rows without a split.
    ///
    /// - Throws: ``DatasetError`` when the manifest is missing, unreadable or malformed (the message gives the
    ///   line), or the split policy is invalid.
    public static func load(manifest: URL, options: ScanOptions = ScanOptions()) throws -> Dataset {
        try options.split.validate()
        let manifest = manifest.absoluteURL.standardizedFileURL
        let data: Data
        do {
            data = try Data(contentsOf: manifest)
        } catch {
            guard FileManager.default.fileExists(atPath: manifest.path) else {
                throw DatasetError(.notFound, "manifest \(manifest.path) does not exist")
            }
            throw DatasetError(.unreadable, "cannot read manifest \(manifest.path): \(error.localizedDescription)")
        }
        let folder = manifest.deletingLastPathComponent()
        if manifest.pathExtension.lowercased() == "json" {
            let contents = try SplitManifest.decode(data, from: manifest)
            let root = URL(fileURLWithPath: contents.root, relativeTo: folder).standardizedFileURL
            let files = contents.items.map { item in
                PendingFile(path: resolve(item.path, in: root), label: item.label, fixedSplit: item.split)
            }
            return try assemble(root: root, layout: .jsonManifest, policy: contents.policy, hashedSplits: [],
                                labels: contents.labels, files: files, skipped: [], checkExistence: true)
        }
        let rows = try ManifestCSV.rows(of: data, manifest: manifest)
        let files = rows.map { row in
            PendingFile(path: resolve(row.path, in: folder), label: row.label, fixedSplit: row.split)
        }
        return try assemble(root: folder, layout: .csvManifest, policy: options.split,
                            hashedSplits: Set(DatasetSplit.allCases), labels: [], files: files, skipped: [],
                            checkExistence: true)
    }

    /// A file that passed the walk (or is listed in a manifest) but has not been opened yet.
    struct PendingFile {
        let path: URL
        let label: String
        /// nil: the hash decides among the hashed splits.
        let fixedSplit: DatasetSplit?
    }

    private static func resolve(_ path: String, in folder: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path).standardizedFileURL
            : folder.appendingPathComponent(path).standardizedFileURL
    }

    /// Checks the files, splits them and gathers the report.
    private static func assemble(root: URL, layout: Layout, policy: SplitPolicy, hashedSplits: Set<DatasetSplit>,
                                 labels: [String], files: [PendingFile], skipped: [SkippedFile],
                                 checkExistence: Bool = false) throws -> Dataset {
        let labels = try distinctLabels(labels + files.map(\.label))
        var report = DatasetReport()
        var skipped = skipped
        var present: [PendingFile] = []
        for file in files {
            if checkExistence, !FileManager.default.fileExists(atPath: file.path.path) {
                skipped.append(SkippedFile(path: path(of: file.path, relativeTo: root), reason: .missing))
            } else {
                present.append(file)
            }
        }
        var images: [(file: PendingFile, contentHash: String)] = []
        for (file, outcome) in zip(present, ImageFileInspector.inspect(present.map(\.path))) {
            switch outcome {
            case .image(let contentHash): images.append((file, contentHash))
            case .skipped(let reason, let detail):
                skipped.append(SkippedFile(path: path(of: file.path, relativeTo: root), reason: reason, detail: detail))
            }
        }
        report.skipped = skipped.sorted { $0.path.precedesInDatasetOrder($1.path) }

        let splitter = StableSplitter(policy: policy, hashedSplits: hashedSplits)
        let (splits, moves) = splitter.assign(images.map {
            StableSplitter.Entry(label: $0.file.label, contentHash: $0.contentHash, fixedSplit: $0.file.fixedSplit)
        })
        var items = zip(images, splits).map { image, split in
            DatasetItem(path: image.file.path, label: image.file.label, split: split, contentHash: image.contentHash)
        }
        report.reassigned = moves.map { move in
            DatasetReport.Reassignment(path: path(of: items[move.index].path, relativeTo: root),
                                       label: items[move.index].label, from: move.from, to: move.to)
        }.sorted { $0.path.precedesInDatasetOrder($1.path) }
        items.sort { a, b in
            a.label != b.label ? a.label.precedesInDatasetOrder(b.label)
                : a.path.path.precedesInDatasetOrder(b.path.path)
        }
        (report.conflicts, report.duplicateCopies) = duplicates(among: items, root: root)
        let hashed = images.contains { $0.file.fixedSplit == nil } ? splitter.intervals.map(\.split) : []
        return Dataset(root: root, layout: layout, policy: policy, hashedSplits: hashed,
                       labels: labels, items: items, report: report)
    }

    /// The distinct labels, sorted.
    ///
    /// - Throws: ``DatasetError/Code/ambiguousLabels`` when two labels are spelled with different bytes but are the
    ///   same text (NFC and NFD): Swift compares strings by canonical equivalence, so every later step (and the
    ///   user reading the results) would take them for one class.
    private static func distinctLabels(_ labels: [String]) throws -> [String] {
        var byBytes: [[UInt8]: String] = [:]
        for label in labels { byBytes[Array(label.utf8)] = label }
        let groups = Dictionary(grouping: byBytes.values, by: { $0 })
        if let clash = groups.values.first(where: { $0.count > 1 }) {
            let spellings = clash.map { label in
                "'\(label)' (UTF-8 " + label.utf8.map { String(format: "%02x", $0) }.joined() + ")"
            }
            throw DatasetError(.ambiguousLabels, "labels " + spellings.joined(separator: " and ")
                               + " are the same name in different Unicode normalizations (NFC and NFD): "
                               + "rename one folder (or manifest label) so that each class has one spelling")
        }
        return groups.keys.sorted { $0.precedesInDatasetOrder($1) }
    }

    /// Identical files that disagree on label or split, and how many files merely copy another of their class.
    private static func duplicates(among items: [DatasetItem], root: URL) -> ([DatasetReport.Conflict], Int) {
        var conflicts: [DatasetReport.Conflict] = []
        var copies = 0
        for (hash, group) in Dictionary(grouping: items, by: \.contentHash) where group.count > 1 {
            let labels = Set(group.map(\.label))
            if labels.count > 1 || Set(group.map(\.split)).count > 1 {
                let files = group.map {
                    DatasetReport.Conflict.File(path: path(of: $0.path, relativeTo: root), label: $0.label,
                                                split: $0.split)
                }.sorted { $0.path.precedesInDatasetOrder($1.path) }
                conflicts.append(DatasetReport.Conflict(contentHash: hash, files: files))
            }
            copies += group.count - labels.count
        }
        conflicts.sort { $0.files[0].path.precedesInDatasetOrder($1.files[0].path) }
        return (conflicts, copies)
    }
}
