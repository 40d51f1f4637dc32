/// Where the kernel window of one output coordinate falls along one spatial axis of a convolution or pool.
struct WindowSpan {
    /// Input coordinate under tap 0; negative when the window starts in the leading padding.
    let origin: Int
    /// The taps whose input coordinate `origin + tap` lies inside the input (empty if the window is all padding).
    let taps: Range<Int>

    init(output: Int, stride: Int, padBefore: Int, kernelSize: Int, inputSize: Int) {
        origin = output * stride - padBefore
        let first = max(0, -origin)
        taps = first..<max(first, min(kernelSize, inputSize - origin))
    }

    /// The window of output row `outputY` along the height axis.
    init(outputY: Int, of geometry: ConvolutionGeometry) {
        self.init(output: outputY, stride: geometry.strideHeight, padBefore: geometry.padTop,
                  kernelSize: geometry.kernelHeight, inputSize: geometry.inputHeight)
    }

    /// The window of output column `outputX` along the width axis.
    init(outputX: Int, of geometry: ConvolutionGeometry) {
        self.init(output: outputX, stride: geometry.strideWidth, padBefore: geometry.padLeft,
                  kernelSize: geometry.kernelWidth, inputSize: geometry.inputWidth)
    }

    /// The output columns whose whole window lies inside the input, so that they need no bounds checks.
    ///
    /// Columns before the range overlap the left padding and columns after it the right padding; the range is
    /// empty (but still positioned in `0...outputWidth`) when no window fits inside the input.
    static func interiorColumns(of geometry: ConvolutionGeometry) -> Range<Int> {
        let stride = geometry.strideWidth
        let first = min((geometry.padLeft + stride - 1) / stride, geometry.outputWidth)
        let lastOrigin = geometry.inputWidth - geometry.kernelWidth
        guard lastOrigin >= 0 else { return first..<first }
        let end = min(geometry.outputWidth, (lastOrigin + geometry.padLeft) / stride + 1)
        return first..<max(first, end)
    }
}
