import Foundation

/// Every error the image decoders and encoders throw: a code to switch on, the image it concerns, and a reason
/// that says what went wrong and what to do next.
///
/// `description` is fit to print as is, for example
/// `cannot decode 'cats/x.jpg': the JPEG data is truncated (Premature end of JPEG file); re-download or re-export
/// the file`.
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public enum Code: String, Sendable {
        /// The file could not be read (missing, a directory, no permission).
        case unreadable
        /// The file or buffer holds zero bytes.
        case empty
        /// The bytes are not a JPEG or PNG image (the reason names the format when it is recognisable).
        case unsupportedFormat
        /// The bytes start like a JPEG or PNG image but are truncated or corrupt.
        case damaged
        /// The header declares more pixels than the decoder's pixel limit (a decompression bomb, or simply huge).
        case tooLarge
        /// An encoder failed (out of memory, or a library error); `source` describes the image being encoded.
        case encodingFailed
    }

    /// What kind of failure this is.
    public let code: Code
    /// The path or URL of the image, or a short description of an in-memory image.
    public let source: String
    /// What went wrong and, where it helps, what to do about it.
    public let reason: String

    /// Creates an error about the image at `source`.
    public init(_ code: Code, source: String, reason: String) {
        self.code = code
        self.source = source
        self.reason = reason
    }

    public var description: String {
        switch code {
        case .encodingFailed: "cannot encode \(source): \(reason)"
        default: "cannot decode '\(source)': \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
