import BottleneckEngine
import Testing

@Suite struct InvertedBottleneckTests {
    /// Depthwise geometries (the expanded tensor's): strides 1 and 2, 3x3 and 5x5, asymmetric TF-SAME pads, widths
    /// that leave partial projection tiles, channel counts with SIMD remainders, several images, and a kernel
    /// taller than the stride so that chunks share ring rows.
    static let geometries: [ConvolutionGeometry] = [
        ConvolutionGeometry(batch: 1, inputHeight: 11, inputWidth: 9, inputChannels: 24, outputChannels: 24,
                            kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                            groups: 24),
        ConvolutionGeometry(batch: 2, inputHeight: 14, inputWidth: 13, inputChannels: 17, outputChannels: 17,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 0, padLeft: 0, padBottom: 1, padRight: 1, groups: 17),
        ConvolutionGeometry(batch: 2, inputHeight: 10, inputWidth: 30, inputChannels: 40, outputChannels: 40,
                            kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2,
                            groups: 40),
        ConvolutionGeometry(batch: 1, inputHeight: 15, inputWidth: 7, inputChannels: 9, outputChannels: 9,
                            kernelHeight: 5, kernelWidth: 5, strideHeight: 2, strideWidth: 2,
                            padTop: 1, padLeft: 2, padBottom: 2, padRight: 2, groups: 9),
        // A window taller than the input with padding: chunks whose rows read only part of the kernel.
        ConvolutionGeometry(batch: 1, inputHeight: 3, inputWidth: 20, inputChannels: 16, outputChannels: 16,
                            kernelHeight: 5, kernelWidth: 5, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2,
                            groups: 16),
    ]

    // Against the three references run one after the other, for every split of the rows into three calls (each
    // with its own NaN-filled scratch, so a read of a ring row that was never computed shows), with and without an
    // expansion and a residual. Tolerance 1e-4 relative to the values' scale: three fp32 stages against Double
    // (pointwise) and fp32 (depthwise) references, sums of up to 40 products of values in [-2, 2].
    @Test(arguments: geometries, [(true, true), (true, false), (false, true), (false, false)])
    func forwardMatchesReference(geometry: ConvolutionGeometry, variant: (expands: Bool, residual: Bool)) {
        let channels = geometry.inputChannels
        let (blockInputChannels, outputChannels) = (variant.expands ? 11 : channels, 13)
        var random = SplitMix64(seed: UInt64(geometry.inputWidth * 131 + channels))
        let pixels = geometry.batch * geometry.inputHeight * geometry.inputWidth
        let outputPixels = geometry.outputRows * geometry.outputWidth
        let input = FloatBuffer(random.floats(pixels * blockInputChannels, in: -2...2))
        let expandWeights = FloatBuffer(random.floats(blockInputChannels * channels))
        let expandBias = FloatBuffer(random.floats(channels))
        let depthwiseWeights = FloatBuffer(random.floats(geometry.kernelHeight * geometry.kernelWidth * channels))
        let depthwiseBias = FloatBuffer(random.floats(channels))
        let projectWeights = FloatBuffer(random.floats(channels * outputChannels))
        let projectBias = FloatBuffer(random.floats(outputChannels))
        let residual = FloatBuffer(random.floats(outputPixels * outputChannels, in: -2...2))
        defer {
            [input, expandWeights, expandBias, depthwiseWeights, depthwiseBias, projectWeights, projectBias, residual]
                .forEach { $0.deallocate() }
        }
        let packedExpand = PointwiseConvolution.pack(weights: expandWeights.pointer, inputChannels: blockInputChannels,
                                                     outputChannels: channels)
        let packedProject = PointwiseConvolution.pack(weights: projectWeights.pointer, inputChannels: channels,
                                                      outputChannels: outputChannels)
        packedExpand.withUnsafeBufferPointer { packedExpand in
            packedProject.withUnsafeBufferPointer { packedProject in
                let block = InvertedBottleneck(
                    geometry: geometry,
                    expansion: variant.expands
                        ? .pointwise(.init(weights: packedExpand.baseAddress!, bias: expandBias.pointer,
                                           clamp: .relu6, inputChannels: blockInputChannels, outputChannels: channels))
                        : nil,
                    depthwiseWeights: depthwiseWeights.pointer, depthwiseBias: depthwiseBias.pointer,
                    depthwiseClamp: Clamp(lower: -0.5, upper: 1.5),
                    project: .init(weights: packedProject.baseAddress!, bias: projectBias.pointer,
                                   clamp: variant.residual ? .none : .relu,
                                   inputChannels: channels, outputChannels: outputChannels))
                let error = Self.maximumErrorAgainstReference(
                    block, input: input.pointer, expandWeights: expandWeights.pointer,
                    projectWeights: projectWeights.pointer,
                    residual: variant.residual ? UnsafePointer(residual.pointer) : nil,
                    scratchCount: InvertedBottleneck.scratchCount(for: geometry, expands: variant.expands))
                #expect(error <= 1e-4, "\(geometry) \(variant): max error \(error)")
            }
        }
    }

    // The same blocks with an int8 expansion (`Precision.int8`), reading the block input quantized per row as
    // the planner leaves it, against the int8 expansion's reference, then the fp32 references. Tolerance as above:
    // both sum the same integers, then run the same fp32 stages.
    @Test(.enabled(if: QuantizedPointwiseConvolution.isSupported, "needs AVX-512 VNNI"),
          arguments: geometries, [true, false])
    func int8ExpansionMatchesReference(geometry: ConvolutionGeometry, residual hasResidual: Bool) {
        let channels = geometry.inputChannels
        let (blockInputChannels, outputChannels) = (11, 13)
        var random = SplitMix64(seed: UInt64(geometry.inputWidth * 137 + channels))
        let pixels = geometry.batch * geometry.inputHeight * geometry.inputWidth
        let input = FloatBuffer(random.floats(pixels * blockInputChannels, in: -2...2))
        let expandWeights = random.floats(blockInputChannels * channels)
        let expandBias = random.floats(channels)
        let depthwiseWeights = FloatBuffer(random.floats(geometry.kernelHeight * geometry.kernelWidth * channels))
        let depthwiseBias = FloatBuffer(random.floats(channels))
        let projectWeights = FloatBuffer(random.floats(channels * outputChannels))
        let projectBias = FloatBuffer(random.floats(outputChannels))
        let residual = FloatBuffer(random.floats(geometry.outputRows * geometry.outputWidth * outputChannels))
        let unused = FloatBuffer(repeating: .nan, count: channels)  // fp32 expansion weights the int8 stage ignores
        defer {
            [input, depthwiseWeights, depthwiseBias, projectWeights, projectBias, residual, unused]
                .forEach { $0.deallocate() }
        }
        let int8Expand = QuantizedPointwiseConvolution(
            inputChannels: blockInputChannels, outputChannels: channels, bias: expandBias
        ) { output, input in expandWeights[input * channels + output] }
        let packedProject = PointwiseConvolution.pack(weights: projectWeights.pointer, inputChannels: channels,
                                                      outputChannels: outputChannels)
        expandBias.withUnsafeBufferPointer { expandBias in
            packedProject.withUnsafeBufferPointer { packedProject in
                let block = InvertedBottleneck(
                    geometry: geometry,
                    expansion: .pointwise(.init(weights: unused.pointer, bias: expandBias.baseAddress!, clamp: .relu6,
                                                inputChannels: blockInputChannels, outputChannels: channels)),
                    depthwiseWeights: depthwiseWeights.pointer, depthwiseBias: depthwiseBias.pointer,
                    depthwiseClamp: .relu6,
                    project: .init(weights: packedProject.baseAddress!, bias: projectBias.pointer,
                                   clamp: hasResidual ? .none : .relu, inputChannels: channels,
                                   outputChannels: outputChannels),
                    int8Expand: int8Expand)
                let error = Self.maximumErrorAgainstReference(
                    block, input: input.pointer, expandWeights: nil, projectWeights: projectWeights.pointer,
                    residual: hasResidual ? UnsafePointer(residual.pointer) : nil,
                    scratchCount: InvertedBottleneck.scratchCount(for: geometry, expands: true))
                #expect(error <= 1e-4, "\(geometry) residual \(hasResidual): max error \(error)")
            }
        }
    }

    /// Runs `block` over all its output rows in three calls, each with its own NaN-filled scratch (a read of a ring
    /// row that was never computed shows), checks that the calls together write every output exactly, and returns
    /// the largest difference from `block.reference`.
    static func maximumErrorAgainstReference(
        _ block: InvertedBottleneck, input: UnsafePointer<Float>, expandWeights: UnsafePointer<Float>?,
        projectWeights: UnsafePointer<Float>, residual: UnsafePointer<Float>?, scratchCount: Int
    ) -> Float {
        let g = block.geometry
        let count = g.outputRows * g.outputWidth * block.project.outputChannels
        let sentinel: Float = 4321
        let scratch = FloatBuffer(repeating: .nan, count: scratchCount)
        let fast = FloatBuffer(repeating: sentinel, count: count)
        let expected = FloatBuffer(repeating: 0, count: count)
        defer { [scratch, fast, expected].forEach { $0.deallocate() } }
        // An int8 expansion reads the block input quantized per row, as the planner's quantize step leaves it.
        let (inputRows, width) = (g.batch * g.inputHeight, g.inputWidth)
        let stride = block.int8Expand?.inputStride ?? 0
        var bytes = [UInt8](repeating: 0, count: inputRows * width * stride)
        var scales: [QuantizedPointwiseConvolution.ActivationScale] = []
        if let int8Expand = block.int8Expand {
            bytes.withUnsafeMutableBufferPointer { bytes in
                for row in 0..<inputRows {
                    scales.append(QuantizedPointwiseConvolution.quantize(
                        input: input + row * width * int8Expand.inputChannels, pixels: width,
                        channels: int8Expand.inputChannels, output: bytes.baseAddress! + row * width * stride,
                        stride: stride))
                }
            }
        }
        let (imageScales, zeroPoints) = (scales.map(\.scale), scales.map(\.zeroPoint))
        runInPieces(rows: 0..<g.outputRows, rowSize: g.outputWidth * block.project.outputChannels, output: fast,
                    sentinel: sentinel) { rows in
            scratch.pointer.update(repeating: .nan, count: scratchCount)
            bytes.withUnsafeBufferPointer { bytes in
                imageScales.withUnsafeBufferPointer { imageScales in
                    zeroPoints.withUnsafeBufferPointer { zeroPoints in
                        let quantized = block.int8Expand.map { _ in
                            QuantizedPointwiseConvolution.Input(
                                bytes: bytes.baseAddress!, scales: imageScales.baseAddress!,
                                zeroPoints: zeroPoints.baseAddress!, pixelsPerScale: width)
                        }
                        block.forward(input: input, quantizedInput: quantized, residual: residual,
                                      output: fast.pointer, rows: rows, scratch: scratch.pointer)
                    }
                }
            }
        }
        block.reference(input: input, expandWeights: expandWeights, projectWeights: projectWeights,
                        residual: residual, output: expected.pointer)
        return maximumError(fast.values, expected.values)
    }

    /// A dense convolution as the expansion (EfficientNet-Lite0's stem before its first block): 3x3 stride 2 with
    /// TF-SAME pads from 3 channels, into 3x3 and 5x5 depthwise convolutions; odd sizes, two images, and rows split
    /// into three calls as above. Tolerance as above, the expansion summing 27 products.
    @Test(arguments: [(3, 1), (5, 1), (3, 2)])
    func convolutionExpansionMatchesReference(depthwiseKernel: Int, stride: Int) {
        let (batch, height, width, inputChannels, channels, outputChannels) = (2, 19, 17, 3, 20, 13)
        let stem = ConvolutionGeometry(batch: batch, inputHeight: height, inputWidth: width,
                                       inputChannels: inputChannels, outputChannels: channels, kernelHeight: 3,
                                       kernelWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0,
                                       padBottom: 1, padRight: 1)
        let pad = depthwiseKernel / 2
        let geometry = ConvolutionGeometry(batch: batch, inputHeight: stem.outputHeight, inputWidth: stem.outputWidth,
                                           inputChannels: channels, outputChannels: channels,
                                           kernelHeight: depthwiseKernel, kernelWidth: depthwiseKernel,
                                           strideHeight: stride, strideWidth: stride, padTop: pad, padLeft: pad,
                                           padBottom: pad, padRight: pad, groups: channels)
        var random = SplitMix64(seed: UInt64(depthwiseKernel * 10 + stride))
        let input = FloatBuffer(random.floats(stem.inputCount, in: -2...2))
        let stemWeights = FloatBuffer(random.floats(channels * inputChannels * 9))
        let stemBias = FloatBuffer(random.floats(channels))
        let depthwiseWeights = FloatBuffer(random.floats(depthwiseKernel * depthwiseKernel * channels))
        let depthwiseBias = FloatBuffer(random.floats(channels))
        let projectWeights = FloatBuffer(random.floats(channels * outputChannels))
        let projectBias = FloatBuffer(random.floats(outputChannels))
        defer {
            [input, stemWeights, stemBias, depthwiseWeights, depthwiseBias, projectWeights, projectBias]
                .forEach { $0.deallocate() }
        }
        let packedStem = IndirectConvolution.pack(weightsOIHW: stemWeights.pointer, outputChannels: channels,
                                                  inputChannelsPerGroup: inputChannels, kernelHeight: 3,
                                                  kernelWidth: 3, groups: 1)
        let packedProject = PointwiseConvolution.pack(weights: projectWeights.pointer, inputChannels: channels,
                                                      outputChannels: outputChannels)
        packedStem.withUnsafeBufferPointer { packedStem in
            packedProject.withUnsafeBufferPointer { packedProject in
                let block = InvertedBottleneck(
                    geometry: geometry,
                    expansion: .convolution(.init(geometry: stem, weights: packedStem.baseAddress!,
                                                  bias: stemBias.pointer, clamp: .relu6)),
                    depthwiseWeights: depthwiseWeights.pointer, depthwiseBias: depthwiseBias.pointer,
                    depthwiseClamp: .relu6,
                    project: .init(weights: packedProject.baseAddress!, bias: projectBias.pointer, clamp: .none,
                                   inputChannels: channels, outputChannels: outputChannels))
                let error = Self.maximumErrorAgainstReference(
                    block, input: input.pointer, expandWeights: stemWeights.pointer,
                    projectWeights: projectWeights.pointer, residual: nil,
                    scratchCount: InvertedBottleneck.scratchCount(
                        for: geometry, expands: true, expansionScratch: IndirectConvolution.scratchCount(for: stem)))
                #expect(error <= 1e-4, "kernel \(depthwiseKernel) stride \(stride): max error \(error)")
            }
        }
    }
}
