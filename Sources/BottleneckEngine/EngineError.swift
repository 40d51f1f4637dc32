/// Why loading or running a model failed, with a message that says what to do next.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The file is missing or unreadable.
        case fileNotReadable
        /// The bytes are not a valid ONNX model.
        case invalidModel
        /// The model uses an operator, attribute or data type the engine does not implement.
        case unsupported
        /// The input given at run time does not match what the model expects.
        case invalidInput
        /// A tensor name that does not exist in the graph was requested.
        case unknownTensor
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
