import Foundation

/// Every error the cache throws: a code to switch on and a message that says what went wrong and what to do next,
/// fit to print as is.
///
/// A damaged or missing *shard* is not an error: it is reported as a ``CacheProblem`` and its vectors are treated
/// as missing, so the pipeline extracts them again. These errors are for misuse and for a store that cannot be
/// reached or written.
public struct CacheError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public enum Code: String, Sendable {
        /// An object key is empty, absolute, has empty, `.` or `..` components, or a component starting with `.`.
        case invalidKey
        /// An image hash is not 64 hexadecimal digits.
        case invalidHash
        /// The namespace description is unusable (empty fingerprint or tensor name, bad dimension, bad JSON).
        case invalidNamespace
        /// A different namespace already lives under the same id (a 64-bit id collision, or a hand-edited cache).
        case namespaceCollision
        /// A writer id has characters other than letters, digits, `.`, `_` and `-`, or is too long.
        case invalidWriterID
        /// A vector's length differs from the namespace's dimension.
        case dimensionMismatch
        /// A vector holds NaN or infinity, or a value float16 cannot represent.
        case invalidValue
        /// The data type is not available on this platform (float16 on Intel macOS).
        case unsupportedDType
        /// `append` or `flush` after `close()`.
        case closed
        /// Reading, writing, listing or deleting in the object store failed.
        case storeFailure
        /// A `--shard` value or the AWS Batch array index is malformed or out of range.
        case invalidShardAssignment
        /// A cache location is neither a path, a `file://` URL nor an `s3://bucket/prefix` URL.
        case invalidLocation
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}

/// A damaged, truncated or missing shard or manifest found while reading. Its vectors are treated as missing.
public struct CacheProblem: Sendable, Equatable, CustomStringConvertible {
    /// The object's key in the store, e.g. `3f2a.../shards/w1-000002.bnks`.
    public let key: String
    /// Where the object is, for people: a file path or an `s3://` URL.
    public let location: String
    /// What is wrong, e.g. "body checksum mismatch: footer says 1a2b3c4d, content is 5e6f7a8b".
    public let reason: String
    /// How many vectors became unavailable because of it (0 when not known, e.g. for an unreadable manifest).
    public let lostVectors: Int

    public init(key: String, location: String, reason: String, lostVectors: Int) {
        self.key = key
        self.location = location
        self.reason = reason
        self.lostVectors = lostVectors
    }

    public var description: String {
        lostVectors > 0 ? "\(location): \(reason) (\(lostVectors) vectors will be extracted again)"
                        : "\(location): \(reason)"
    }
}
