import Foundation

/// gzip decompression by running the system's `gzip -dc`.
///
/// Swift on Linux has no zlib module and this package links no compression library; gzip is an essential package
/// on Debian (and present wherever Debian's dataset packages are), so a child process is the smallest dependable
/// way to read the `.gz` files, at native zlib speed.
enum Gunzip {
    /// The gzip magic number.
    static let magic: [UInt8] = [0x1F, 0x8B]

    /// The decompressed content of a gzip file.
    ///
    /// - Throws: ``DatasetError/Code/decompressionFailed`` when gzip is missing or fails (its message included).
    static func contents(of url: URL) throws -> Data {
        guard let gzip = executable() else {
            throw DatasetError(.decompressionFailed, "cannot decompress \(url.path): no gzip program on PATH "
                               + "(apt-get install gzip), or decompress it yourself with `gunzip -k`")
        }
        let process = Process()
        process.executableURL = gzip
        process.arguments = ["-dc", "--", url.path]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw DatasetError(.decompressionFailed, "cannot run \(gzip.path): \(error.localizedDescription)")
        }
        // gzip writes its (short) messages only on failure, after which stdout ends: reading stdout to the end
        // first cannot block on a full stderr pipe.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw DatasetError(.decompressionFailed, "gzip could not decompress \(url.path) (status "
                               + "\(process.terminationStatus)): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return data
    }

    private static func executable() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
        return folders.lazy.map { URL(fileURLWithPath: $0).appendingPathComponent("gzip") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
