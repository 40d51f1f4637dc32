/// The shape arithmetic of one 2-D convolution or pooling window over NHWC tensors.
///
/// Input is `[batch, inputHeight, inputWidth, inputChannels]`, output is
/// `[batch, outputHeight, outputWidth, outputChannels]`, both NHWC and contiguous. Padding may be asymmetric
/// (TensorFlow "SAME" pads the bottom/right one more than the top/left at stride 2). Dilation is always 1.
public struct ConvolutionGeometry: Sendable, Equatable, CustomStringConvertible {
    public var batch: Int
    public var inputHeight: Int
    public var inputWidth: Int
    public var inputChannels: Int
    public var outputChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var groups: Int

    public init(
        batch: Int, inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
        padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0, groups: Int = 1
    ) {
        precondition(batch >= 0 && inputHeight > 0 && inputWidth > 0 && inputChannels > 0 && outputChannels > 0)
        precondition(kernelHeight > 0 && kernelWidth > 0 && strideHeight > 0 && strideWidth > 0)
        precondition(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0)
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0)
        self.batch = batch
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
        self.groups = groups
    }

    /// Output rows: `floor((H + padTop + padBottom - kH) / strideH) + 1`.
    public var outputHeight: Int { (inputHeight + padTop + padBottom - kernelHeight) / strideHeight + 1 }
    /// Output columns: `floor((W + padLeft + padRight - kW) / strideW) + 1`.
    public var outputWidth: Int { (inputWidth + padLeft + padRight - kernelWidth) / strideWidth + 1 }

    /// One output row of one image: the unit in which kernels split work across threads (`batch * outputHeight`).
    public var outputRows: Int { batch * outputHeight }

    public var inputChannelsPerGroup: Int { inputChannels / groups }
    public var outputChannelsPerGroup: Int { outputChannels / groups }
    public var isDepthwise: Bool { groups == inputChannels && groups == outputChannels }
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0 && groups == 1
    }

    public var inputCount: Int { batch * inputHeight * inputWidth * inputChannels }
    public var outputCount: Int { batch * outputHeight * outputWidth * outputChannels }

    public var description: String {
        "N\(batch) \(inputHeight)x\(inputWidth)x\(inputChannels) -> \(outputHeight)x\(outputWidth)x\(outputChannels)"
            + " k\(kernelHeight)x\(kernelWidth) s\(strideHeight)x\(strideWidth)"
            + " pad(t\(padTop) l\(padLeft) b\(padBottom) r\(padRight)) g\(groups)"
    }
}
