import Foundation

/// Where a cache lives, as given on the command line: a path or `file:///path` (a ``LocalDirectoryStore``), or
/// `s3://bucket/prefix` (an ``S3ObjectStore``).
public enum CacheLocation: Sendable, Equatable, CustomStringConvertible {
    case directory(URL)
    case s3(bucket: String, prefix: String)

    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw CacheError(.invalidLocation, "the cache location is empty") }
        if let schemeEnd = trimmed.range(of: "://") {
            let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
            let rest = String(trimmed[schemeEnd.upperBound...])
            switch scheme {
            case "file":
                // file:///path, or file://localhost/path
                let path: String
                if rest.hasPrefix("/") {
                    path = rest
                } else if rest.lowercased().hasPrefix("localhost/") {
                    path = String(rest.dropFirst("localhost".count))
                } else {
                    throw CacheError(.invalidLocation, "'\(text)' names a file on another host; use file:///path")
                }
                guard let decoded = path.removingPercentEncoding else {
                    throw CacheError(.invalidLocation, "'\(text)' has a malformed percent escape")
                }
                self = .directory(Self.folderURL(decoded))
            case "s3":
                let bucket = String(rest.prefix { $0 != "/" })
                let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
                guard Self.isValidBucket(bucket) else {
                    throw CacheError(.invalidLocation, "'\(bucket)' in '\(text)' is not a valid S3 bucket name "
                                     + "(3 to 63 lowercase letters, digits, '.' and '-')")
                }
                self = .s3(bucket: bucket, prefix: prefix)
            default:
                throw CacheError(.invalidLocation, "'\(text)': cache locations are paths, file:///path or "
                                 + "s3://bucket/prefix, not \(scheme)://")
            }
        } else {
            self = .directory(Self.folderURL((trimmed as NSString).expandingTildeInPath))
        }
    }

    /// The store for this location. S3 takes its credentials, region and endpoint (`AWS_ENDPOINT_URL_S3`) from
    /// `environment` and the AWS settings files, as the AWS tools do.
    public func makeStore(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> any ObjectStore {
        switch self {
        case .directory(let url):
            return LocalDirectoryStore(root: url)
        case .s3(let bucket, let prefix):
            return try S3ObjectStore(bucket: bucket, prefix: prefix, environment: environment)
        }
    }

    public var description: String {
        switch self {
        case .directory(let url): url.path
        case .s3(let bucket, let prefix): prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        }
    }

    /// A file URL without a trailing slash, so equal paths give equal locations.
    private static func folderURL(_ path: String) -> URL {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return URL(fileURLWithPath: path).standardizedFileURL
    }

    private static func isValidBucket(_ name: String) -> Bool {
        (3...63).contains(name.count)
            && name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 46 || $0 == 45 }
            && (name.first!.isLetter || name.first!.isNumber) && (name.last!.isLetter || name.last!.isNumber)
    }
}
