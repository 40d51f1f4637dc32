/// An inverted-residual block (MobileNetV2, EfficientNet): an optional expansion, a depthwise convolution and a
/// 1x1 projection with an optional residual, computed a chunk of output rows at a time.
///
/// Run as three layers, the expanded tensor (112x112x96 floats, 4.8 MB, in EfficientNet-Lite0's second block) is
/// written to memory by the expansion and read back by the depthwise convolution, and the depthwise output again
/// by the projection: that round trip made the depthwise layers memory-bound (BENCHMARKS.md, profile). Here the
/// expanded rows live in a ring of `ringRows` rows and one chunk of depthwise output in a small buffer, both in
/// the caller's per-thread scratch and small enough to stay in L2. Within a call each expanded row is computed
/// once; a call that starts mid-image recomputes the rows its first chunk shares with the previous call.
///
/// The expansion is usually a 1x1 convolution; it may also be any convolution computed by `IndirectConvolution`
/// (EfficientNet-Lite0's stem, whose 112x112x32 output then never leaves the ring for L3).
///
/// Layouts (NHWC, contiguous `Float`): input `[batch, inputHeight, inputWidth, inputChannels]` of the depthwise
/// geometry, where `inputChannels` is a 1x1 expansion's input (or the depthwise channels without an expansion),
/// or a convolution expansion's input as its own geometry states; output and residual
/// `[batch, outputHeight, outputWidth, project.outputChannels]`. Scratch: `scratchCount` floats.
///
/// At `Precision.int8` a 1x1 expansion runs in int8 (`QuantizedPointwiseConvolution`), reading the block input
/// quantized beforehand, one scale per image row. The projection stays fp32: quantizing its input (one scale per
/// row of depthwise output) was 5% faster but doubled the feature error and cost 0.2 points of Fashion-MNIST
/// accuracy (BENCHMARKS.md).
package struct InvertedBottleneck {
    /// The stage that computes the depthwise convolution's input rows from the block's input.
    package enum Expansion {
        /// A 1x1 convolution of each input pixel.
        case pointwise(Pointwise)
        /// Any convolution, `IndirectConvolution`'s: the block's input is this convolution's input.
        case convolution(Convolution)
    }

    /// A convolution expansion: `geometry` maps the block's input to the depthwise input; weights packed by
    /// `IndirectConvolution.pack`, bias `[geometry.outputChannels]`.
    package struct Convolution {
        package var geometry: ConvolutionGeometry
        package var weights: UnsafePointer<Float>
        package var bias: UnsafePointer<Float>
        package var clamp: Clamp

        package init(geometry: ConvolutionGeometry, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                     clamp: Clamp) {
            self.geometry = geometry
            self.weights = weights
            self.bias = bias
            self.clamp = clamp
        }
    }

    /// A 1x1 convolution stage: weights packed by `PointwiseConvolution.pack`, bias `[outputChannels]`.
    package struct Pointwise {
        package var weights: UnsafePointer<Float>
        package var bias: UnsafePointer<Float>
        package var clamp: Clamp
        package var inputChannels: Int
        package var outputChannels: Int

        package init(weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, clamp: Clamp, inputChannels: Int,
                     outputChannels: Int) {
            self.weights = weights
            self.bias = bias
            self.clamp = clamp
            self.inputChannels = inputChannels
            self.outputChannels = outputChannels
        }
    }

    /// The depthwise convolution's geometry (its input is the expanded tensor); weights `[kH, kW, channels]`.
    package let geometry: ConvolutionGeometry
    package let expansion: Expansion?
    package let depthwiseWeights: UnsafePointer<Float>
    package let depthwiseBias: UnsafePointer<Float>
    package let depthwiseClamp: Clamp
    package let project: Pointwise
    /// The int8 form of a 1x1 expansion; nil runs it in fp32.
    package let int8Expand: QuantizedPointwiseConvolution?
    /// Output rows per chunk: the projection runs on `chunkRows * outputWidth` pixels at a time.
    package let chunkRows: Int

    /// Pixels the projection should see per call, so its 6-pixel register tiles are mostly full.
    static let chunkPixels = 48

    package init(
        geometry: ConvolutionGeometry, expansion: Expansion?, depthwiseWeights: UnsafePointer<Float>,
        depthwiseBias: UnsafePointer<Float>, depthwiseClamp: Clamp, project: Pointwise,
        int8Expand: QuantizedPointwiseConvolution? = nil
    ) {
        precondition(geometry.isDepthwise, "not a depthwise convolution: \(geometry)")
        switch expansion {
        case .pointwise(let expand):
            precondition(expand.outputChannels == geometry.inputChannels,
                         "the expansion must produce the depthwise channels")
        case .convolution(let expand):
            let g = expand.geometry
            precondition(g.batch == geometry.batch && g.outputChannels == geometry.inputChannels
                            && g.outputHeight == geometry.inputHeight && g.outputWidth == geometry.inputWidth,
                         "the expansion must produce the depthwise input: \(g) -> \(geometry)")
        case nil:
            break
        }
        precondition(project.inputChannels == geometry.outputChannels,
                     "the projection must read the depthwise channels")
        if case .pointwise = expansion {} else {
            precondition(int8Expand == nil, "only a 1x1 expansion runs in int8")
        }
        self.geometry = geometry
        self.expansion = expansion
        self.depthwiseWeights = depthwiseWeights
        self.depthwiseBias = depthwiseBias
        self.depthwiseClamp = depthwiseClamp
        self.project = project
        self.int8Expand = int8Expand
        chunkRows = Self.chunkRows(for: geometry)
    }

    /// Output rows per chunk for a depthwise `geometry`.
    package static func chunkRows(for geometry: ConvolutionGeometry) -> Int {
        min(geometry.outputHeight, max(1, (chunkPixels + geometry.outputWidth - 1) / geometry.outputWidth))
    }

    /// Expanded input rows one chunk reads: the ring's size.
    package static func ringRows(for geometry: ConvolutionGeometry) -> Int {
        (chunkRows(for: geometry) - 1) * geometry.strideHeight + geometry.kernelHeight
    }

    /// Floats of scratch one call needs: the ring of expanded rows (if there is an expansion), one chunk of
    /// depthwise output, and a convolution expansion's own scratch (`IndirectConvolution.scratchCount`).
    package static func scratchCount(for geometry: ConvolutionGeometry, expands: Bool,
                                     expansionScratch: Int = 0) -> Int {
        let channels = geometry.inputChannels
        let ring = expands ? ringRows(for: geometry) * geometry.inputWidth * channels : 0
        return ring + chunkRows(for: geometry) * geometry.outputWidth * channels + expansionScratch
    }

    /// Computes output rows `rows` (row `n * outputHeight + y`). Calls on disjoint row ranges may run concurrently,
    /// each with its own `scratch`. With `int8Expand`, `quantizedInput` is the block input quantized per row.
    package func forward(
        input: UnsafePointer<Float>, quantizedInput: QuantizedPointwiseConvolution.Input? = nil,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, rows: Range<Int>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= geometry.outputRows, "rows out of range")
        precondition((int8Expand == nil) == (quantizedInput == nil), "an int8 expansion reads the quantized input")
        let g = geometry
        let channels = g.inputChannels
        let ringRows = Self.ringRows(for: g)
        let expandedRowSize = g.inputWidth * channels
        let ring = scratch
        let depthwiseOutput = scratch + (expansion == nil ? 0 : ringRows * expandedRowSize)
        let expansionScratch = depthwiseOutput + chunkRows * g.outputWidth * channels
        let outputRowSize = g.outputWidth * project.outputChannels
        // Expanded rows [ringStart, ringEnd) of image `ringImage` are in the ring, row y at slot y % ringRows.
        var ringImage = -1
        var ringEnd = 0
        var row = rows.lowerBound
        while row < rows.upperBound {
            let (image, firstY) = row.quotientAndRemainder(dividingBy: g.outputHeight)
            let count = min(chunkRows, g.outputHeight - firstY, rows.upperBound - row)
            if let expansion {
                let first = max(0, firstY * g.strideHeight - g.padTop)
                let end = min(g.inputHeight, (firstY + count - 1) * g.strideHeight - g.padTop + g.kernelHeight)
                let needed = first..<max(first, end)  // empty when every window lies in the padding
                if image != ringImage || ringEnd < needed.lowerBound {
                    ringImage = image
                    ringEnd = needed.lowerBound
                }
                while ringEnd < needed.upperBound {
                    let slot = ringEnd % ringRows
                    let span = min(needed.upperBound - ringEnd, ringRows - slot)
                    switch expansion {
                    case .pointwise(let expand):
                        if let int8Expand, var rowsInput = quantizedInput {
                            // The view starts at the first row to expand, pixel 0 with that row's scale.
                            let firstRow = image * g.inputHeight + ringEnd
                            rowsInput.bytes += firstRow * g.inputWidth * int8Expand.inputStride
                            rowsInput.scales += firstRow
                            rowsInput.zeroPoints += firstRow
                            int8Expand.forward(input: rowsInput, residual: nil, clamp: expand.clamp,
                                               output: ring + slot * expandedRowSize, pixels: 0..<(span * g.inputWidth))
                            break
                        }
                        PointwiseConvolution.forward(
                            input: input + (image * g.inputHeight + ringEnd) * g.inputWidth * expand.inputChannels,
                            inputChannels: expand.inputChannels, packedWeights: expand.weights,
                            outputChannels: channels, bias: expand.bias, residual: nil, clamp: expand.clamp,
                            output: ring + slot * expandedRowSize, pixels: 0..<(span * g.inputWidth))
                    case .convolution(let expand):
                        let first = image * g.inputHeight + ringEnd
                        IndirectConvolution.forward(
                            geometry: expand.geometry, input: input, packedWeights: expand.weights, bias: expand.bias,
                            residual: nil, clamp: expand.clamp, output: ring + slot * expandedRowSize,
                            outputFirstRow: first, rows: first..<(first + span), scratch: expansionScratch)
                    }
                    ringEnd += span
                }
            }
            DepthwiseConvolution.forward(
                geometry: g,
                inputRow: { n, y in
                    expansion == nil ? input + (n * g.inputHeight + y) * expandedRowSize
                        : UnsafePointer(ring + y % ringRows * expandedRowSize)
                },
                weights: depthwiseWeights, bias: depthwiseBias, clamp: depthwiseClamp,
                outputRow: { depthwiseOutput + ($0 - row) * g.outputWidth * channels }, rows: row..<(row + count))
            PointwiseConvolution.forward(
                input: depthwiseOutput, inputChannels: channels, packedWeights: project.weights,
                outputChannels: project.outputChannels, bias: project.bias,
                residual: residual.map { $0 + row * outputRowSize }, clamp: project.clamp,
                output: output + row * outputRowSize, pixels: 0..<(count * g.outputWidth))
            row += count
        }
    }

    /// The three stages run one after the other by their naive references over whole tensors: the oracle for
    /// tests. `projectWeights` and a 1x1 expansion's `expandWeights` are unpacked `[inputChannels, outputChannels]`,
    /// a convolution expansion's are ONNX's `[outputChannels, inputChannels, kernelHeight, kernelWidth]`; the
    /// `weights` pointers of the stages are ignored. An int8 expansion quantizes the whole input as the planner
    /// does (one scale per row) and runs its int8 reference.
    package func reference(
        input: UnsafePointer<Float>, expandWeights: UnsafePointer<Float>?, projectWeights: UnsafePointer<Float>,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        var expanded = [Float](repeating: 0, count: g.inputCount)
        var depthwise = [Float](repeating: 0, count: g.outputCount)
        expanded.withUnsafeMutableBufferPointer { expanded in
            switch expansion {
            case .pointwise(let expand) where int8Expand != nil:
                Self.int8Reference(int8Expand!, input: input, rows: g.batch * g.inputHeight, width: g.inputWidth,
                                   clamp: expand.clamp, output: expanded.baseAddress!)
            case .pointwise(let expand):
                PointwiseConvolution.reference(
                    input: input, inputChannels: expand.inputChannels, weights: expandWeights!,
                    outputChannels: g.inputChannels, bias: expand.bias, residual: nil, clamp: expand.clamp,
                    output: expanded.baseAddress!, pixels: 0..<(g.batch * g.inputHeight * g.inputWidth))
            case .convolution(let expand):
                ConvolutionReference.forward(
                    geometry: expand.geometry, input: input, weightsOIHW: expandWeights!, bias: expand.bias,
                    residual: nil, clamp: expand.clamp, output: expanded.baseAddress!)
            case nil:
                expanded.baseAddress!.update(from: input, count: g.inputCount)
            }
            depthwise.withUnsafeMutableBufferPointer { depthwise in
                DepthwiseConvolution.reference(
                    geometry: g, input: expanded.baseAddress!, weights: depthwiseWeights, bias: depthwiseBias,
                    clamp: depthwiseClamp, output: depthwise.baseAddress!, rows: 0..<g.outputRows)
                PointwiseConvolution.reference(
                    input: depthwise.baseAddress!, inputChannels: g.outputChannels, weights: projectWeights,
                    outputChannels: project.outputChannels, bias: project.bias, residual: residual,
                    clamp: project.clamp, output: output, pixels: 0..<(g.outputRows * g.outputWidth))
            }
        }
    }

    /// Quantizes `rows` rows of `width` pixels, each row over its own range, and runs `convolution`'s reference.
    private static func int8Reference(
        _ convolution: QuantizedPointwiseConvolution, input: UnsafePointer<Float>, rows: Int, width: Int,
        clamp: Clamp, output: UnsafeMutablePointer<Float>
    ) {
        let (channels, stride) = (convolution.inputChannels, convolution.inputStride)
        var bytes = [UInt8](repeating: 0, count: rows * width * stride)
        bytes.withUnsafeMutableBufferPointer { bytes in
            let scales = (0..<rows).map { row in
                QuantizedPointwiseConvolution.quantize(
                    input: input + row * width * channels, pixels: width, channels: channels,
                    output: bytes.baseAddress! + row * width * stride, stride: stride)
            }
            convolution.reference(input: bytes.baseAddress!, scales: scales, pixelsPerScale: width,
                                  residual: nil, clamp: clamp, output: output, pixelCount: rows * width)
        }
    }
}
