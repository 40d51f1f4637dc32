/// The result of classifying one image: the most probable classes and where the time went.
public struct Classification: Codable, Sendable {
    /// The top classes, most probable first (ties by lower index).
    public var top: [ClassScore]
    /// Seconds spent decoding the image bytes and preprocessing them into the model input.
    public var decodeSeconds: Double
    /// Seconds spent running the model.
    public var inferenceSeconds: Double

    /// Creates a classification.
    public init(top: [ClassScore], decodeSeconds: Double, inferenceSeconds: Double) {
        self.top = top
        self.decodeSeconds = decodeSeconds
        self.inferenceSeconds = inferenceSeconds
    }
}
