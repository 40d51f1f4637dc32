/// What a graph node computes, with its ONNX attributes already parsed and checked.
///
/// Shapes and axes are ONNX's logical ones (NCHW for images); the planner maps them onto the engine's NHWC
/// buffers. Weights stay graph inputs (by name) until the optimizer fuses them into a `PreparedConvolution`
/// or `PreparedGemm`, which hold them prepacked for the kernels.
public enum Operation: Sendable {
    case convolution(ConvolutionAttributes)
    case batchNormalization(epsilon: Float)
    /// ReLU, Clip with constant bounds, and the activations fused into producers.
    case clamp(Clamp)
    /// Clip whose bounds are tensors; resolved to `.clamp` once they are known constants.
    case clipWithBoundInputs
    case sigmoid
    case binary(BinaryOperation)
    case globalAveragePool
    case pool(PoolAttributes)
    case gemm(GemmAttributes)
    case matMul
    case flatten(axis: Int)
    case reshape(allowZero: Bool)
    case concat(axis: Int)
    /// Constant-mode Pad; `pads` is nil when they come from the second input (opset 11+).
    case pad(pads: [Int]?, value: Float)
    case transpose(permutation: [Int]?)
    /// Softmax along `axis`; before opset 13 the input is coerced to 2-D at `axis` first.
    case softmax(axis: Int, coercesTo2D: Bool)
    case identity

    // Shape arithmetic: folded by the planner once the input shape is known, never run per image.
    case shape
    case gather(axis: Int)
    /// Unsqueeze; `axes` is nil when they come from the second input (opset 13+).
    case unsqueeze(axes: [Int]?)
    case squeeze(axes: [Int]?)
    case cast(toInteger: Bool)
    case slice
    case constantOfShape(value: Float)

    // Produced by the optimizer.
    case preparedConvolution(PreparedConvolution)
    case preparedGemm(PreparedGemm)

    /// The ONNX-style name used in plans and messages.
    public var name: String {
        switch self {
        case .convolution: "Conv"
        case .batchNormalization: "BatchNormalization"
        case .clamp(let clamp): clamp == .relu ? "Relu" : "Clip"
        case .clipWithBoundInputs: "Clip"
        case .sigmoid: "Sigmoid"
        case .binary(let operation): operation.onnxName
        case .globalAveragePool: "GlobalAveragePool"
        case .pool(let attributes): attributes.kind == .max ? "MaxPool" : "AveragePool"
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .flatten: "Flatten"
        case .reshape: "Reshape"
        case .concat: "Concat"
        case .pad: "Pad"
        case .transpose: "Transpose"
        case .softmax: "Softmax"
        case .identity: "Identity"
        case .shape: "Shape"
        case .gather: "Gather"
        case .unsqueeze: "Unsqueeze"
        case .squeeze: "Squeeze"
        case .cast: "Cast"
        case .slice: "Slice"
        case .constantOfShape: "ConstantOfShape"
        case .preparedConvolution(let convolution): convolution.kindName
        case .preparedGemm: "Gemm(prepared)"
        }
    }
}

/// How ONNX `auto_pad` chooses padding.
public enum AutoPad: Sendable, Equatable {
    /// Explicit `pads` (ONNX `NOTSET`).
    case explicit
    /// Pad so that output = ceil(input / stride), extra padding at the end (TensorFlow "SAME").
    case sameUpper
    /// As `sameUpper`, extra padding at the start.
    case sameLower
    /// No padding.
    case valid
}

/// The window of a convolution or pooling node, as ONNX gives it (2-D only).
public struct WindowAttributes: Sendable, Equatable {
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int = 1
    public var strideWidth: Int = 1
    /// ONNX order: top, left, bottom, right.
    public var pads: [Int] = [0, 0, 0, 0]
    public var autoPad: AutoPad = .explicit

    /// Padding `(top, left, bottom, right)` for an input of `height` x `width`.
    public func resolvedPads(height: Int, width: Int) -> (top: Int, left: Int, bottom: Int, right: Int) {
        func same(_ size: Int, _ kernel: Int, _ stride: Int) -> (Int, Int) {
            let output = (size + stride - 1) / stride
            let total = max((output - 1) * stride + kernel - size, 0)
            return autoPad == .sameUpper ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
        }
        switch autoPad {
        case .explicit: return (pads[0], pads[1], pads[2], pads[3])
        case .valid: return (0, 0, 0, 0)
        case .sameUpper, .sameLower:
            let (top, bottom) = same(height, kernelHeight, strideHeight)
            let (left, right) = same(width, kernelWidth, strideWidth)
            return (top, left, bottom, right)
        }
    }
}

public struct ConvolutionAttributes: Sendable, Equatable {
    public var window: WindowAttributes
    public var groups: Int
}

public struct PoolAttributes: Sendable, Equatable {
    public enum Kind: Sendable { case max, average }
    public var kind: Kind
    public var window: WindowAttributes
    public var ceilMode: Bool
    public var countIncludePad: Bool
}

public struct GemmAttributes: Sendable, Equatable {
    public var alpha: Float = 1
    public var beta: Float = 1
    public var transposeA: Bool = false
    public var transposeB: Bool = false
}

extension BinaryOperation {
    var onnxName: String {
        switch self {
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .div: "Div"
        }
    }
}
