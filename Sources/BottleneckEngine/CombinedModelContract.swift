/// The names a combined model (a backbone and a trained head in one ONNX file, as `bottleneck export` writes it)
/// and its readers agree on: the output holding the class probabilities and the metadata entries that mark the file
/// as such a model. Defined here, in the engine every writer and reader links, so the export and the serving side
/// cannot drift apart. (How images are prepared is `PreprocessingSpec.metadataKey`, in BottleneckImages.)
public enum CombinedModelContract {
    /// The combined model's only output: softmax probabilities `[N, classes]`.
    public static let scoresOutput = "scores"
    /// The metadata key holding the format version; a combined model always has it.
    public static let formatKey = "bottleneck.format"
    /// The value of `formatKey` this version writes and reads.
    public static let format = "combined/1"
    /// The metadata key holding the class names: a JSON array of strings, in the order of the `scores` columns.
    public static let labelsKey = "bottleneck.labels"
}
