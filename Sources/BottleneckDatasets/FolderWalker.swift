import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Walks a data folder: finds the layout (class folders, or split folders holding class folders) and every file
/// below a class folder, following symbolic links but entering each folder at most once.
struct FolderWalker {
    /// A file below a class folder, not yet opened.
    struct Candidate {
        let path: URL
        /// Relative to the data root, `/`-separated.
        let relativePath: String
        let label: String
        /// The split its top-level folder fixes, nil in the plain class-folder layout.
        let folderSplit: DatasetSplit?
    }

    let root: URL
    private(set) var candidates: [Candidate] = []
    private(set) var skipped: [SkippedFile] = []
    /// Every class folder found (also those with no usable file), as spelled on disk.
    private(set) var labels: [String] = []
    /// The split folders present at the top level; empty for the plain layout.
    private(set) var splitFolders: Set<DatasetSplit> = []
    /// (device, inode) of every folder entered, so that a symbolic-link loop is entered only once.
    private var visited: Set<FileIdentity> = []

    private struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private enum Kind {
        case folder(FileIdentity)
        case file
        case other(String)
        case broken(String)
    }

    init(root: URL) {
        self.root = root
    }

    /// Walks the whole tree.
    ///
    /// - Throws: ``DatasetError`` when the root is missing, not a folder or unreadable, or when the top level mixes
    ///   split folders and class folders.
    mutating func walk() throws {
        guard case .folder(let rootIdentity) = kind(of: root) else {
            if FileManager.default.fileExists(atPath: root.path) {
                throw DatasetError(.wrongKind, "\(root.path) is a file, not a folder: pass a folder laid out as "
                                   + "<folder>/<class>/<image>, or a CSV manifest with path,label columns")
            }
            throw DatasetError(.notFound, "data folder \(root.path) does not exist")
        }
        visited.insert(rootIdentity)
        let top: [Subfolder]
        do {
            top = try subfolders(of: "")
        } catch {
            throw DatasetError(.unreadable, "cannot list \(root.path): \(error.localizedDescription)")
        }
        // Split folders at the top level decide the layout.
        let splitNamed = top.filter { DatasetSplit(folderName: $0.name) != nil }
        guard !splitNamed.isEmpty else {
            for folder in top { walkClassFolder(folder, under: "", split: nil) }
            return
        }
        let others = top.filter { DatasetSplit(folderName: $0.name) == nil }.map(\.name)
        guard others.isEmpty else {
            throw DatasetError(.mixedLayout, "\(root.path) mixes split folders ("
                               + splitNamed.map { $0.name + "/" }.joined(separator: ", ") + ") with other folders ("
                               + others.map { $0 + "/" }.joined(separator: ", ") + "): either put every class folder "
                               + "inside train/, val/ and test/, or use no split folder at all")
        }
        for folder in splitNamed {
            let split = DatasetSplit(folderName: folder.name)!
            splitFolders.insert(split)
            guard visited.insert(folder.identity).inserted else {
                skipped.append(SkippedFile(path: folder.name, reason: .revisitedFolder))
                continue
            }
            do {
                for classFolder in try subfolders(of: folder.name + "/") {
                    walkClassFolder(classFolder, under: folder.name + "/", split: split)
                }
            } catch {
                skipped.append(SkippedFile(path: folder.name, reason: .unreadable, detail: error.localizedDescription))
            }
        }
    }

    private struct Subfolder {
        let name: String
        let identity: FileIdentity
    }

    /// The visible folders directly in `root/prefix`; everything else there is outside any class folder and
    /// recorded as skipped.
    private mutating func subfolders(of prefix: String) throws -> [Subfolder] {
        var folders: [Subfolder] = []
        for name in try entries(of: root.appendingPathComponent(prefix)) {
            let relative = prefix + name
            if name.isHiddenName {
                skipped.append(SkippedFile(path: relative, reason: .hidden))
                continue
            }
            switch kind(of: root.appendingPathComponent(relative)) {
            case .folder(let identity): folders.append(Subfolder(name: name, identity: identity))
            case .file: skipped.append(SkippedFile(path: relative, reason: .outsideClassFolder))
            case .other(let what): skipped.append(SkippedFile(path: relative, reason: .notAnImage, detail: what))
            case .broken(let why): skipped.append(SkippedFile(path: relative, reason: .unreadable, detail: why))
            }
        }
        return folders
    }

    private mutating func walkClassFolder(_ folder: Subfolder, under prefix: String, split: DatasetSplit?) {
        labels.append(folder.name)
        walkFolder(relativePath: prefix + folder.name, identity: folder.identity, label: folder.name, split: split)
    }

    /// Collects every file below a class folder, depth first.
    private mutating func walkFolder(relativePath: String, identity: FileIdentity, label: String,
                                     split: DatasetSplit?) {
        guard visited.insert(identity).inserted else {
            skipped.append(SkippedFile(path: relativePath, reason: .revisitedFolder))
            return
        }
        let url = root.appendingPathComponent(relativePath)
        let names: [String]
        do {
            names = try entries(of: url)
        } catch {
            skipped.append(SkippedFile(path: relativePath, reason: .unreadable, detail: error.localizedDescription))
            return
        }
        for name in names {
            let relative = relativePath + "/" + name
            if name.isHiddenName {
                skipped.append(SkippedFile(path: relative, reason: .hidden))
                continue
            }
            let child = url.appendingPathComponent(name)
            switch kind(of: child) {
            case .folder(let childIdentity):
                walkFolder(relativePath: relative, identity: childIdentity, label: label, split: split)
            case .file:
                candidates.append(Candidate(path: child, relativePath: relative, label: label, folderSplit: split))
            case .other(let what):
                skipped.append(SkippedFile(path: relative, reason: .notAnImage, detail: what))
            case .broken(let why):
                skipped.append(SkippedFile(path: relative, reason: .unreadable, detail: why))
            }
        }
    }

    /// The names in a folder, in a fixed order (the walk's results do not depend on the file system's order).
    private func entries(of folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted { $0.precedesInDatasetOrder($1) }
    }

    /// What a path is once symbolic links are followed.
    private func kind(of url: URL) -> Kind {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            var linkInfo = stat()
            if lstat(url.path, &linkInfo) == 0, (linkInfo.st_mode & S_IFMT) == S_IFLNK {
                return .broken("symbolic link to a missing target: \(reason)")
            }
            return .broken(reason)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .folder(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
        case S_IFREG: return .file
        case S_IFIFO: return .other("a named pipe")
        case S_IFSOCK: return .other("a socket")
        default: return .other("a device")
        }
    }
}
