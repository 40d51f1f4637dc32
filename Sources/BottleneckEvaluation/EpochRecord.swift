/// One epoch of training, the input of the training-curve figure.
///
/// Plain data, so the training target can map its own history into it without depending on this module's logic.
public struct EpochRecord: Codable, Equatable, Sendable {
    /// The epoch number (usually starting at 1).
    public var epoch: Int
    /// The mean training loss over the epoch.
    public var trainLoss: Double
    /// The training accuracy over the epoch, in 0...1.
    public var trainAccuracy: Double
    /// The validation loss after the epoch, when a validation split exists.
    public var validationLoss: Double?
    /// The validation accuracy after the epoch, in 0...1, when a validation split exists.
    public var validationAccuracy: Double?
    /// The learning rate used during the epoch.
    public var learningRate: Double

    /// Creates a record.
    public init(
        epoch: Int, trainLoss: Double, trainAccuracy: Double,
        validationLoss: Double? = nil, validationAccuracy: Double? = nil, learningRate: Double
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
    }
}
