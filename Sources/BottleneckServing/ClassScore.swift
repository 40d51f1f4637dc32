/// One class of a classification: its label, its index in the model's label list, and its probability.
public struct ClassScore: Codable, Sendable, Equatable {
    /// The class name from the model's `bottleneck.labels`.
    public var label: String
    /// The class's index in the model's output (and label list).
    public var index: Int
    /// The softmax probability, 0...1.
    public var score: Float

    /// Creates a score.
    public init(label: String, index: Int, score: Float) {
        self.label = label
        self.index = index
        self.score = score
    }
}
