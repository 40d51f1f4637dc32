import BottleneckImages
import Foundation

/// Fashion-MNIST (Zalando Research, MIT licence): 70,000 grayscale 28x28 photos of clothing in ten classes,
/// 60,000 for training and 10,000 for test. The project's default data, taken from Debian's
/// `dataset-fashion-mnist` package and written out as an ordinary class-folder dataset.
public enum FashionMNIST {
    /// The ten official class names, in label order (label 0 is "T-shirt/top").
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// The class folder names: the official names with `/` (which a file name cannot hold) replaced by `_`, so
    /// label 0 is "T-shirt_top".
    public static let folderNames = classNames.map { $0.replacingOccurrences(of: "/", with: "_") }

    /// Where Debian's `dataset-fashion-mnist` package installs the IDX files.
    public static let debianFolder = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// Width and height of every image.
    public static let imageSide = 28

    /// What ``prepare(into:perClass:source:progress:)`` did for one split.
    public struct PreparedSplit: Sendable, Equatable {
        public let split: DatasetSplit
        /// Images selected (all, or `perClass` of each class).
        public let images: Int
        /// Files written because they were missing or different.
        public let written: Int
        /// Files already present with the right bytes.
        public let unchanged: Int
        /// Files of an earlier run that are not in this selection (e.g. a larger `perClass`), deleted.
        public let removed: Int
    }

    /// The IDX base names of a split (each may be stored with or without `.gz`).
    static func sourceNames(of split: DatasetSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte")
    }

    /// Reads one split's images (`[n, 28, 28]`) and labels (`[n]`, values 0...9) from the IDX files in `source`.
    ///
    /// - Parameter split: `.train` (60,000 images) or `.test` (10,000); Fashion-MNIST has no validation split.
    /// - Throws: ``DatasetError/Code/sourceMissing`` when the files are not there (with how to install them),
    ///   or an error for a file that is unreadable or malformed.
    public static func read(_ split: DatasetSplit, from source: URL = debianFolder) throws
        -> (images: IDXFile, labels: IDXFile) {
        precondition(split != .validation, "Fashion-MNIST has only train and test files")
        let names = sourceNames(of: split)
        func locate(_ name: String) throws -> URL {
            for candidate in [name + ".gz", name] {
                let url = source.appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: url.path) { return url }
            }
            throw DatasetError(.sourceMissing, "Fashion-MNIST file \(name).gz is not in \(source.path): install "
                               + "Debian's package (apt-get install dataset-fashion-mnist), or pass the folder that "
                               + "holds train-images-idx3-ubyte.gz and the three other IDX files")
        }
        let images = try IDXFile(contentsOf: try locate(names.images))
        let labels = try IDXFile(contentsOf: try locate(names.labels))
        guard images.dimensions.count == 3, images.dimensions[1] == imageSide, images.dimensions[2] == imageSide
        else {
            throw DatasetError(.malformedIDX, "\(names.images): dimensions \(images.dimensions), expected "
                               + "[n, \(imageSide), \(imageSide)]")
        }
        guard labels.dimensions == [images.count] else {
            throw DatasetError(.malformedIDX, "\(names.labels): dimensions \(labels.dimensions), expected "
                               + "[\(images.count)] to match the images")
        }
        if let bad = labels.values.firstIndex(where: { Int($0) >= classNames.count }) {
            throw DatasetError(.malformedIDX, "\(names.labels): label \(labels.values[bad]) at item \(bad) is not"
                               + " in 0...9")
        }
        return (images, labels)
    }

    /// Writes Fashion-MNIST as `folder/{train,test}/<class folder>/<index>.png`: grayscale 28x28 PNGs named by
    /// their position in the IDX file (`00042.png`), the class folders named by ``folderNames``.
    ///
    /// Idempotent: files already holding the right bytes are left alone, others are written to a temporary file
    /// and renamed, and numbered PNGs of an earlier, larger selection are removed, so an interrupted or repeated
    /// run ends in the same folder.
    ///
    /// - Parameters:
    ///   - folder: the output folder, e.g. `datasets/fashion-mnist`; created if needed.
    ///   - perClass: when set, only the first `perClass` images of each class in each split (in file order).
    ///   - source: the folder with the IDX files.
    ///   - progress: receives one line per step, fit to print.
    /// - Returns: what happened to the train and test splits.
    /// - Throws: ``DatasetError`` when the source is missing or malformed, or a file cannot be written.
    @discardableResult
    public static func prepare(into folder: URL, perClass: Int? = nil, source: URL = debianFolder,
                               progress: (String) -> Void = { _ in }) throws -> [PreparedSplit] {
        precondition(perClass.map { $0 > 0 } ?? true, "perClass must be positive")
        var results: [PreparedSplit] = []
        for split in [DatasetSplit.train, .test] {
            progress("\(split.rawValue): reading the IDX files in \(source.path)")
            let (images, labels) = try read(split, from: source)
            var selected: [[Int]] = Array(repeating: [], count: classNames.count)
            for index in 0..<labels.count {
                let label = Int(labels.values[index])
                if let perClass, selected[label].count >= perClass { continue }
                selected[label].append(index)
            }
            let total = selected.reduce(0) { $0 + $1.count }
            progress("\(split.rawValue): \(images.count) images, writing \(total)"
                     + (perClass.map { " (the first \($0) of each class)" } ?? ""))
            var (written, unchanged, removed, done) = (0, 0, 0, 0)
            let step = total >= 1000 ? total / 10 : Int.max  // progress every 10% for long runs
            for (label, indices) in selected.enumerated() {
                let classFolder = folder.appendingPathComponent(split.rawValue)
                    .appendingPathComponent(folderNames[label])
                try createFolder(classFolder)
                var wanted: Set<String> = []
                for index in indices {
                    let name = fileName(of: index)
                    wanted.insert(name)
                    let png = Data(try PNGEncoder.encodeGrayscale(width: imageSide, height: imageSide,
                                                                  pixels: Array(images.item(index))))
                    if try writeIfChanged(png, to: classFolder.appendingPathComponent(name)) {
                        written += 1
                    } else {
                        unchanged += 1
                    }
                    done += 1
                    if done % step == 0, done < total { progress("\(split.rawValue): \(done)/\(total)") }
                }
                removed += try removeStale(in: classFolder, keeping: wanted)
            }
            progress("\(split.rawValue): \(total) images in \(classNames.count) classes: \(written) written, "
                     + "\(unchanged) unchanged, \(removed) removed")
            results.append(PreparedSplit(split: split, images: total, written: written, unchanged: unchanged,
                                         removed: removed))
        }
        return results
    }

    /// `00042.png` for item 42: five digits cover the 60,000 training images, and sort in file order.
    static func fileName(of index: Int) -> String {
        String(format: "%05d.png", index)
    }

    private static func isGeneratedName(_ name: String) -> Bool {
        name.hasSuffix(".png") && name.utf8.count == 9 && name.utf8.prefix(5).allSatisfy { (48...57).contains($0) }
    }

    private static func createFolder(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DatasetError(.writeFailed, "cannot create \(url.path): \(error.localizedDescription)")
        }
    }

    /// Writes `data` unless the file already holds exactly it; returns whether it wrote.
    private static func writeIfChanged(_ data: Data, to url: URL) throws -> Bool {
        if let existing = try? Data(contentsOf: url), existing == data { return false }
        do {
            try data.write(to: url, options: .atomic)  // a temporary file in the same folder, then rename(2)
        } catch {
            throw DatasetError(.writeFailed, "cannot write \(url.path): \(error.localizedDescription)")
        }
        return true
    }

    /// Deletes numbered PNGs that an earlier run wrote but this one did not select; returns how many.
    private static func removeStale(in folder: URL, keeping wanted: Set<String>) throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed = 0
        for name in names where isGeneratedName(name) && !wanted.contains(name) {
            do {
                try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
            } catch {
                throw DatasetError(.writeFailed, "cannot remove the stale file \(folder.path)/\(name): "
                                   + error.localizedDescription)
            }
            removed += 1
        }
        return removed
    }
}
