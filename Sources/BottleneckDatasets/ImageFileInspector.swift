import BottleneckImages
import ContentHashing
import Foundation

/// The cheap check a scan makes of each file: its first bytes must be a JPEG or PNG signature (the extension is
/// ignored), and its whole content is hashed. Decoding is left to the feature extractor.
enum ImageFileInspector {
    enum Outcome: Sendable {
        /// SHA-256 of the bytes, lower-case hex.
        case image(contentHash: String)
        case skipped(SkippedFile.Reason, detail: String?)
    }

    /// Bytes read before deciding: enough for `ImageFormat` to recognise and name a format.
    static let headerLength = 512

    /// Checks and hashes one file.
    static func inspect(_ url: URL) -> Outcome {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            return .skipped(.unreadable, detail: describe(error))
        }
        defer { try? handle.close() }
        do {
            let header = try handle.read(upToCount: headerLength) ?? Data()
            if header.isEmpty { return .skipped(.empty, detail: nil) }
            guard ImageFormat.detect(header) != nil else {
                return .skipped(.notAnImage, detail: ImageFormat.describeUnsupported(header))
            }
            var hasher = SHA256()
            hasher.update(header)
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(chunk)
            }
            return .image(contentHash: hasher.finalize().hexString)
        } catch {
            return .skipped(.unreadable, detail: describe(error))
        }
    }

    /// Inspects many files on all cores; the results are in the order of `urls`.
    static func inspect(_ urls: [URL]) -> [Outcome] {
        guard !urls.isEmpty else { return [] }
        let results = UnsafeMutableBufferPointer<Outcome>.allocate(capacity: urls.count)
        defer { results.deallocate() }
        nonisolated(unsafe) let shared = results  // each iteration writes its own element only
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, urls.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: urls.count, by: workers) {
                (shared.baseAddress! + index).initialize(to: inspect(urls[index]))
            }
        }
        let outcomes = Array(results)
        _ = results.baseAddress!.deinitialize(count: urls.count)
        return outcomes
    }

    private static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        return error.localizedDescription
    }
}
