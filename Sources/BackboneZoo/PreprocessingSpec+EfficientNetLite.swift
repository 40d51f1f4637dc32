import BottleneckImages

extension PreprocessingSpec {
    /// EfficientNet-Lite's preprocessing at resolution `inputSize`: the weights come from TensorFlow, whose
    /// EfficientNet evaluation crops the central `S / (S + 32)` of the shorter side (CROP_PADDING = 32), so the
    /// shorter side is resized to `S + 32` before the center crop — 256 for Lite0's 224, as in the reference.
    /// Normalisation is (v - 127) / 128, TF-Lite's for these models; RGB, NCHW, Pillow's antialiased bilinear.
    /// - Precondition: `inputSize` is positive.
    public static func efficientNetLite(inputSize: Int) -> PreprocessingSpec {
        precondition(inputSize > 0, "input size must be positive")
        // Valid by construction (positive sizes, shorter side above the input size, three finite non-zero values).
        return try! PreprocessingSpec(channelOrder: "RGB", crop: "center", inputSize: inputSize,
                                      interpolation: "bilinear-antialias", layout: "NCHW", mean: [127, 127, 127],
                                      resizeShorterSide: inputSize + 32, std: [128, 128, 128])
    }
}
