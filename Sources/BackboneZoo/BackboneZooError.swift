import Foundation

/// Every error the backbone zoo throws: a code to switch on and a message that says what went wrong and what to
/// do next, fit to print as is.
public struct BackboneZooError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public enum Code: String, Sendable {
        // Reading checkpoints
        /// The file is not a legacy torch.save checkpoint (empty, or not starting with a pickle).
        case notACheckpoint
        /// The file ends before the checkpoint does.
        case truncated
        /// The checkpoint is in the zip format of torch.save since PyTorch 1.6, which is not read.
        case zipCheckpoint
        /// The pickle uses an opcode outside the small subset read here.
        case unsupportedOpcode
        /// The pickle names a global (class or function) that is not on the allow-list.
        case disallowedGlobal
        /// The bytes are a pickle but not of the shape a state dict has.
        case malformedCheckpoint
        // Building models
        /// The state dict lacks a tensor the architecture needs, or a tensor has an unexpected shape.
        case unexpectedStateDict
        // Installing
        /// The backbone name is not in the registry.
        case unknownBackbone
        /// No weights file was given and none could be found or installed.
        case weightsNotFound
        /// No labels file was given and none could be found or installed, or the labels file is unusable.
        case labelsUnusable
        /// Running pip failed.
        case pipFailed
        /// A file could not be read or written.
        case fileAccess
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
