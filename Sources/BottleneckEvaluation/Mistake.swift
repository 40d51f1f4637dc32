/// One misclassified sample with the classifier's best guesses.
public struct Mistake: Codable, Equatable, Sendable {
    /// One class and the probability the classifier gave it.
    public struct Prediction: Codable, Equatable, Sendable {
        /// The index into ``Evaluation/classNames``.
        public let classIndex: Int
        /// The probability of this class.
        public let probability: Double
    }

    /// The sample's position in the evaluated split.
    public let index: Int
    /// The sample's identifier, usually its image path.
    public let identifier: String
    /// The true class index.
    public let trueLabel: Int
    /// The probability the classifier gave the true class; mistakes are ordered by it, lowest first.
    public let trueClassProbability: Double
    /// The highest-scoring classes, best first (up to three).
    public let predictions: [Prediction]
}
