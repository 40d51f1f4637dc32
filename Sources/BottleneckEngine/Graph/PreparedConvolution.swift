/// A convolution ready for the kernels: BatchNorm folded in, weights packed once for the chosen kernel,
/// activation and residual add fused.
///
/// `out = clamp(conv(x) + bias + residual)`, where the residual (a second node input) is optional.
public final class PreparedConvolution: Sendable {
    /// Which kernel runs it, and so how `packedWeights` is laid out.
    public enum Kind: Sendable {
        /// 1x1, stride 1, no padding, one group: a matrix product over batch*H*W rows with the epilogue fused
        /// (`PointwiseConvolution`). Weights in 16-channel panels, `[panel][inputChannels][16]`.
        case pointwise
        /// One filter per channel. Weights `[kernelHeight, kernelWidth, channels]`.
        case depthwise
        /// Anything else: an indirect matrix product with the epilogue fused (`IndirectConvolution`). Weights in
        /// 16-channel panels per group, `[groups][panel][kernelHeight, kernelWidth, inputChannels/groups][16]`.
        case general
    }

    public let kind: Kind
    public let window: WindowAttributes
    public let groups: Int
    public let inputChannels: Int
    public let outputChannels: Int
    public let packedWeights: [Float]
    /// `[outputChannels]`.
    public let bias: [Float]
    public let clamp: Clamp
    public let addsResidual: Bool
    /// The int8 form of a pointwise convolution, set for models loaded at `Precision.int8`.
    package let quantized: QuantizedPointwiseConvolution?

    /// Packs ONNX weights `[outputChannels, inputChannels/groups, kernelHeight, kernelWidth]`.
    init(window: WindowAttributes, groups: Int, weights: ConstantTensor, bias: [Float]?) {
        let shape = weights.shape
        precondition(shape.count == 4, "convolution weights must be 4-D")
        let (outputChannels, channelsPerGroup, kernelHeight, kernelWidth) = (shape[0], shape[1], shape[2], shape[3])
        var window = window
        (window.kernelHeight, window.kernelWidth) = (kernelHeight, kernelWidth)
        let inputChannels = channelsPerGroup * groups
        let values = weights.floats
        func weight(_ output: Int, _ input: Int, _ row: Int, _ column: Int) -> Float {
            values[((output * channelsPerGroup + input) * kernelHeight + row) * kernelWidth + column]
        }
        let explicitZeroPads = window.autoPad != .explicit || window.pads.allSatisfy { $0 == 0 }
        let kind: Kind
        var packed = [Float](repeating: 0, count: values.count)
        if kernelHeight == 1, kernelWidth == 1, window.strideHeight == 1, window.strideWidth == 1,
            explicitZeroPads, groups == 1 {
            kind = .pointwise
            for output in 0..<outputChannels {
                for input in 0..<inputChannels { packed[input * outputChannels + output] = weight(output, input, 0, 0) }
            }
            packed = packed.withUnsafeBufferPointer {
                PointwiseConvolution.pack(weights: $0.baseAddress!, inputChannels: inputChannels,
                                          outputChannels: outputChannels)
            }
        } else if groups == inputChannels, groups == outputChannels {
            kind = .depthwise
            for channel in 0..<outputChannels {
                for row in 0..<kernelHeight {
                    for column in 0..<kernelWidth {
                        packed[(row * kernelWidth + column) * outputChannels + channel] = weight(channel, 0, row, column)
                    }
                }
            }
        } else {
            kind = .general
            packed = values.withUnsafeBufferPointer {
                IndirectConvolution.pack(weightsOIHW: $0.baseAddress!, outputChannels: outputChannels,
                                         inputChannelsPerGroup: channelsPerGroup, kernelHeight: kernelHeight,
                                         kernelWidth: kernelWidth, groups: groups)
            }
        }
        self.kind = kind
        self.window = window
        self.groups = groups
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.packedWeights = packed
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        self.clamp = .none
        self.addsResidual = false
        self.quantized = nil
    }

    private init(copying other: PreparedConvolution, clamp: Clamp, addsResidual: Bool,
                 quantized: QuantizedPointwiseConvolution?) {
        kind = other.kind
        window = other.window
        groups = other.groups
        inputChannels = other.inputChannels
        outputChannels = other.outputChannels
        packedWeights = other.packedWeights
        bias = other.bias
        self.clamp = clamp
        self.addsResidual = addsResidual
        self.quantized = quantized
    }

    /// The same convolution with `next` applied to its output.
    func fusing(_ next: Clamp) -> PreparedConvolution {
        PreparedConvolution(copying: self, clamp: clamp.followed(by: next), addsResidual: addsResidual,
                            quantized: quantized)
    }

    /// The same convolution adding a residual input before its (still empty) clamp.
    func fusingResidual() -> PreparedConvolution {
        precondition(clamp.isNone && !addsResidual, "a residual can only be fused before any activation")
        return PreparedConvolution(copying: self, clamp: clamp, addsResidual: true, quantized: quantized)
    }

    /// The same pointwise convolution carrying its int8 form too (weights per output channel).
    func quantizing() -> PreparedConvolution {
        precondition(kind == .pointwise, "only pointwise convolutions have an int8 form")
        let panelWidth = PointwiseConvolution.panelWidth
        let int8 = QuantizedPointwiseConvolution(inputChannels: inputChannels, outputChannels: outputChannels,
                                                 bias: bias) { output, input in
            packedWeights[((output / panelWidth) * inputChannels + input) * panelWidth + output % panelWidth]
        }
        return PreparedConvolution(copying: self, clamp: clamp, addsResidual: addsResidual, quantized: int8)
    }

    /// Calls `body` with pointers to the packed weights and the bias, valid during the call.
    func withPointers<Result>(_ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> Result) -> Result {
        packedWeights.withUnsafeBufferPointer { weights in
            bias.withUnsafeBufferPointer { bias in body(weights.baseAddress!, bias.baseAddress!) }
        }
    }

    var kindName: String {
        let base = switch kind {
        case .pointwise: "Conv1x1"
        case .depthwise: "DepthwiseConv\(window.kernelHeight)x\(window.kernelWidth)"
        case .general: "Conv\(window.kernelHeight)x\(window.kernelWidth)"
        }
        return base + (quantized == nil ? "" : "Int8") + (addsResidual ? "+Add" : "")
            + (clamp.isNone ? "" : "+\(clamp)")
    }
}

/// `Gemm`/`MatMul` with constant weights: `out = clamp(A * packedWeights + bias)`, alpha and beta folded in.
public final class PreparedGemm: Sendable {
    public let inputFeatures: Int
    public let outputFeatures: Int
    /// `[inputFeatures, outputFeatures]`.
    public let packedWeights: [Float]
    /// `[outputFeatures]`.
    public let bias: [Float]
    public let clamp: Clamp

    init(inputFeatures: Int, outputFeatures: Int, packedWeights: [Float], bias: [Float], clamp: Clamp = .none) {
        precondition(packedWeights.count == inputFeatures * outputFeatures && bias.count == outputFeatures)
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.packedWeights = packedWeights
        self.bias = bias
        self.clamp = clamp
    }

    func fusing(_ next: Clamp) -> PreparedGemm {
        PreparedGemm(inputFeatures: inputFeatures, outputFeatures: outputFeatures, packedWeights: packedWeights,
                     bias: bias, clamp: clamp.followed(by: next))
    }
}
