/// The arithmetic a model's convolutions run in.
public enum Precision: String, Sendable, CaseIterable {
    /// fp32 throughout: the default, and what the golden outputs are checked against.
    case float32 = "fp32"
    /// Every 1x1 convolution in int8 on AVX-512 VNNI (`QuantizedPointwiseConvolution`: weights per output
    /// channel, activations per image row); the stem, the depthwise convolutions and the tensors between layers
    /// stay fp32.
    case int8

    /// What a feature cache records for vectors computed at this precision (nil for fp32, whose namespaces predate
    /// precisions). It names the arithmetic's version: change it whenever int8 results change, so that vectors of
    /// an older int8 engine are never mixed with new ones.
    public var cacheTag: String? {
        switch self {
        case .float32: nil
        case .int8: "int8-v1"
        }
    }

    /// Whether this CPU can run models at this precision.
    public var isSupported: Bool {
        switch self {
        case .float32: true
        case .int8: QuantizedPointwiseConvolution.isSupported
        }
    }
}
