/// A naive direct grouped 2-D convolution over NHWC tensors with ONNX-layout weights: the oracle that tests of
/// `IndirectConvolution` compare against.
package enum ConvolutionReference {
    /// Computes the whole output, one multiply-add at a time, in Double:
    /// `output = clamp(conv(input) + bias + residual)`.
    ///
    /// - Parameters:
    ///   - input: NHWC `[batch, inputHeight, inputWidth, inputChannels]`.
    ///   - weightsOIHW: ONNX layout `[outputChannels, inputChannelsPerGroup, kernelHeight, kernelWidth]`.
    ///   - bias: `[outputChannels]`, or `nil` for none.
    ///   - residual: NHWC like `output`, added before the clamp, or `nil` for none.
    ///   - clamp: Applied to every output last.
    ///   - output: NHWC `[batch, outputHeight, outputWidth, outputChannels]`.
    package static func forward(
        geometry: ConvolutionGeometry, input: UnsafePointer<Float>, weightsOIHW: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, clamp: Clamp,
        output: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let groupInputs = g.inputChannelsPerGroup
        let groupOutputs = g.outputChannelsPerGroup
        for n in 0..<g.batch {
            for outputY in 0..<g.outputHeight {
                for outputX in 0..<g.outputWidth {
                    let pixel = (n * g.outputHeight + outputY) * g.outputWidth + outputX
                    for outputChannel in 0..<g.outputChannels {
                        let group = outputChannel / groupOutputs
                        var sum = Double(bias?[outputChannel] ?? 0)
                        for groupInput in 0..<groupInputs {
                            let inputChannel = group * groupInputs + groupInput
                            for ky in 0..<g.kernelHeight {
                                let inputY = outputY * g.strideHeight - g.padTop + ky
                                guard inputY >= 0 && inputY < g.inputHeight else { continue }
                                for kx in 0..<g.kernelWidth {
                                    let inputX = outputX * g.strideWidth - g.padLeft + kx
                                    guard inputX >= 0 && inputX < g.inputWidth else { continue }
                                    let value = input[
                                        ((n * g.inputHeight + inputY) * g.inputWidth + inputX) * g.inputChannels
                                            + inputChannel]
                                    let weight = weightsOIHW[
                                        ((outputChannel * groupInputs + groupInput) * g.kernelHeight + ky)
                                            * g.kernelWidth + kx]
                                    sum += Double(value) * Double(weight)
                                }
                            }
                        }
                        if let residual { sum += Double(residual[pixel * g.outputChannels + outputChannel]) }
                        output[pixel * g.outputChannels + outputChannel] = clamp.apply(Float(sum))
                    }
                }
            }
        }
    }
}
