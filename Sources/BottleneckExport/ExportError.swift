import Foundation

/// Every error the export throws: a code to switch on and a message that says what went wrong and what to do next,
/// fit to print as is.
public struct ExportError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public enum Code: String, Sendable {
        /// The backbone graph cannot carry the head: no single image input, an opset below 7, no such bottleneck
        /// tensor, a size that differs from the head's, or a `scores` tensor of its own before the bottleneck.
        case incompatibleBackbone
        /// A metadata value that must be JSON is not.
        case invalidMetadata
        /// A file could not be written.
        case fileAccess
        /// A combined model lacks, or has unusable, `bottleneck.*` metadata.
        case notACombinedModel
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
