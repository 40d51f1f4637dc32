/// Why training could not start or finish, with a message that says what to do next.
public struct TrainingError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// There are no examples to train or validate on.
        case emptyData
        /// A class has no training example, so the head could never learn it.
        case classWithoutExamples
        /// Vectors, labels and dimensions do not agree with each other.
        case shapeMismatch
        /// A feature is NaN or infinite.
        case nonFiniteFeature
        /// A label is outside `0..<classCount`.
        case labelOutOfRange
        /// A configuration value is out of its allowed range.
        case invalidConfiguration
        /// The loss became NaN or infinite during training.
        case diverged
        /// A saved head could not be read.
        case unreadableHead
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
