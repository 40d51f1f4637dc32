import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Objects as files under a root folder; key `a/b/c` is the file `<root>/a/b/c`.
///
/// `put` writes a hidden temporary file next to the target (`.c.<random>.tmp`), fsyncs it, renames it into place
/// and fsyncs the folder, so a crash at any moment leaves either the old file or the new one. Temporary files left
/// by a crash are hidden and never listed; ``removeTemporaryFiles()`` deletes them.
public struct LocalDirectoryStore: ObjectStore {
    public let root: URL

    /// The store rooted at `root`; the folder is created by the first `put`.
    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public init(path: String) {
        self.init(root: URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
    }

    public func location(of key: String) -> String { path(of: key) }

    private func path(of key: String) -> String {
        root.path.hasSuffix("/") ? root.path + key : root.path + "/" + key
    }

    public func put(_ key: String, _ bytes: Data) throws {
        try validateObjectKey(key)
        let target = path(of: key)
        let folder = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        try ensureFolder(folder)
        let temporary = folder + "/." + name + "." + String(UInt64.random(in: 0...UInt64.max), radix: 36) + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixFailure("create", temporary) }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw posixFailure("write", temporary)
                    }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw posixFailure("fsync", temporary) }
            closed = true
            guard close(fd) == 0 else { throw posixFailure("close", temporary) }
            guard rename(temporary, target) == 0 else { throw posixFailure("rename into place", target) }
        } catch {
            unlink(temporary)
            throw error
        }
        try syncFolder(folder)
    }

    public func get(_ key: String) throws -> Data? {
        try get(key, range: 0..<Int.max)
    }

    public func get(_ key: String, range: Range<Int>) throws -> Data? {
        try validateObjectKey(key)
        let file = path(of: key)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw posixFailure("open", file)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw posixFailure("stat", file) }
        if (status.st_mode & S_IFMT) == S_IFDIR { return nil }
        let size = Int(status.st_size)
        let lower = min(range.lowerBound, size), upper = min(range.upperBound, size)
        var data = Data(count: upper - lower)
        try data.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = pread(fd, raw.baseAddress! + offset, raw.count - offset, off_t(lower + offset))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw posixFailure("read", file)
                }
                if count == 0 { break }  // the file shrank while being read
                offset += count
            }
            if offset < raw.count { throw CacheError(.storeFailure, "\(file) shrank while it was being read") }
        }
        return data
    }

    public func list(prefix: String) throws -> [String] {
        // Walk the deepest folder the prefix names, then filter by the full prefix.
        let folderPart = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        let start = folderPart.isEmpty ? root.path : path(of: folderPart)
        var keys: [String] = []
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: start, isDirectory: &isFolder), isFolder.boolValue else {
            return []
        }
        var pending = [folderPart]
        while let relative = pending.popLast() {
            let absolute = relative.isEmpty ? root.path : path(of: relative)
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: absolute)
            } catch {
                throw CacheError(.storeFailure, "cannot list \(absolute): \(error.localizedDescription)")
            }
            for name in names where !name.hasPrefix(".") {
                let key = relative.isEmpty ? name : relative + "/" + name
                var isChildFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path(of: key), isDirectory: &isChildFolder) else { continue }
                if isChildFolder.boolValue {
                    if prefix.hasPrefix(key + "/") || (key + "/").hasPrefix(prefix) || key.hasPrefix(prefix) {
                        pending.append(key)
                    }
                } else if key.hasPrefix(prefix) {
                    keys.append(key)
                }
            }
        }
        return keys
    }

    public func delete(_ key: String) throws {
        try validateObjectKey(key)
        let file = path(of: key)
        if unlink(file) != 0 {
            if errno == ENOENT { return }
            throw posixFailure("delete", file)
        }
        try syncFolder((file as NSString).deletingLastPathComponent)
    }

    /// Deletes the hidden temporary files that puts interrupted by a crash left behind. Only call it when no other
    /// process is writing to the store. Returns how many were removed.
    @discardableResult
    public func removeTemporaryFiles() throws -> Int {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return 0 }
        var removed = 0
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix("."), name.hasSuffix(".tmp") {
                try FileManager.default.removeItem(atPath: root.path + "/" + relative)
                removed += 1
            }
        }
        return removed
    }

    /// Creates `folder` and its missing parents, fsyncing each parent so the new entries survive a crash.
    private func ensureFolder(_ folder: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw CacheError(.storeFailure, "\(folder) is a file, but the cache needs a folder there")
            }
            return
        }
        let parent = (folder as NSString).deletingLastPathComponent
        if parent != folder { try ensureFolder(parent) }
        if mkdir(folder, 0o755) != 0 && errno != EEXIST { throw posixFailure("create the folder", folder) }
        try syncFolder(parent)
    }

    private func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw posixFailure("open the folder", folder) }
        defer { close(fd) }
        // Some file systems refuse fsync on folders (EINVAL); their renames are durable anyway.
        if fsync(fd) != 0 && errno != EINVAL { throw posixFailure("fsync the folder", folder) }
    }

    private func posixFailure(_ action: String, _ path: String) -> CacheError {
        CacheError(.storeFailure, "cannot \(action) \(path): \(String(cString: strerror(errno)))")
    }
}
