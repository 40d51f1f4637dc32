/// Planning convolutions (pointwise, depthwise, indirect) and matrix products, with their fused epilogues.
extension ExecutionPlanner {
    mutating func planConvolution(_ node: Node, _ convolution: PreparedConvolution) throws {
        let input = try nhwc(try runtime(node.inputs[0], of: node), for: node)
        let geometry = try Self.geometry(of: convolution, node: node, inputShape: input.shape)
        let n = input.shape[0]
        let outputShape = [n, convolution.outputChannels, geometry.outputHeight, geometry.outputWidth]

        var residual: PlannedTensor?
        var separateResidual: PlannedTensor?
        if convolution.addsResidual {
            var candidate = try runtime(node.inputs[1], of: node)
            if candidate.shape == outputShape {
                candidate = try nhwc(candidate, for: node)
                residual = candidate
            } else {
                separateResidual = candidate
            }
        }
        // Without a fusable residual the activation must wait for the separate add.
        let clamp = separateResidual == nil ? convolution.clamp : .none
        let output = newTensor(outputShape, .nhwc)
        if convolution.kind == .general {
            scratchCount = max(scratchCount, IndirectConvolution.scratchCount(for: geometry))
        }
        read(input)
        if let residual { read(residual) }
        // A 1x1 convolution with more output channels than pixels and too few rows to share evenly between
        // threads (EfficientNet's 7x7 expansions: 7 rows would split 3 + 4) gives each thread a share of the
        // 16-channel weight panels rather than of the rows, so that each fetches only its share of the weights (at
        // batch 1 they come from memory, not cache). With enough rows (14x14) rows are split, so that a thread
        // mostly reads rows it computed itself in the layer before and the depthwise layer after reads rows this
        // thread wrote: 0.6-1.4% faster than panels on a quiet host, 2-7% on a busy one (2 threads, batch 1).
        // Splitting the 7x7 depthwise layers by channels to match their expansion measured no gain (+0.2%).
        let allRows = 0..<geometry.outputRows
        let splitsPanels = convolution.kind == .pointwise && allRows.count < 8
            && allRows.count * geometry.outputWidth < geometry.outputChannels
        if let quantized = convolution.quantized {
            appendQuantizedPointwise(node, quantized, geometry: geometry, input: input, output: output,
                                     residual: residual, clamp: clamp, splitsPanels: splitsPanels)
        } else {
            let (source, target, residualBuffer) = (input.buffer, output.buffer, residual?.buffer)
            let body = Self.convolutionBody(convolution, geometry: geometry, clamp: clamp)
            let panels = PointwiseConvolution.panelCount(outputChannels: geometry.outputChannels)
            append(node.name, workItems: splitsPanels ? panels : allRows.count) { arena, items in
                body(arena.pointer(source), arena.pointer(target), residualBuffer.map(arena.pointer), arena,
                     splitsPanels ? allRows : items, splitsPanels ? items : nil)
            }
        }
        if let separateResidual {
            try planSeparateResidual(node, convolutionOutput: output, residual: separateResidual,
                                     clamp: convolution.clamp)
        } else {
            define(node, output)
        }
    }

    /// The geometry of `convolution` on an NCHW-shaped input, checking the channels and that the kernel fits.
    static func geometry(of convolution: PreparedConvolution, node: Node, inputShape: [Int]) throws
        -> ConvolutionGeometry
    {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        guard c == convolution.inputChannels else {
            throw EngineError(.invalidInput, "\(node.label) expects \(convolution.inputChannels) input channels,"
                + " got \(c) (input shape \(inputShape)).")
        }
        let window = convolution.window
        let pads = window.resolvedPads(height: h, width: w)
        guard h + pads.top + pads.bottom >= window.kernelHeight, w + pads.left + pads.right >= window.kernelWidth else {
            throw EngineError(.invalidInput, "\(node.label): a \(window.kernelHeight)x\(window.kernelWidth) kernel"
                + " does not fit its \(h)x\(w) input; the input image is too small for this model.")
        }
        return ConvolutionGeometry(
            batch: n, inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: convolution.outputChannels,
            kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth, strideHeight: window.strideHeight,
            strideWidth: window.strideWidth, padTop: pads.top, padLeft: pads.left, padBottom: pads.bottom,
            padRight: pads.right, groups: convolution.groups)
    }

    /// Runs one prepared convolution over output rows `rows` (and, for a 1x1 convolution, the weight panels
    /// `panels`, nil for all): `(input, output, residual, arena, rows, panels)`.
    static func convolutionBody(
        _ convolution: PreparedConvolution, geometry: ConvolutionGeometry, clamp: Clamp
    ) -> @Sendable (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, Arena,
                    Range<Int>, Range<Int>?) -> Void
    {
        let outputChannels = geometry.outputChannels
        let outputWidth = geometry.outputWidth
        return { input, output, residual, arena, rows, panels in
            convolution.withPointers { weights, bias in
                let pixels = (rows.lowerBound * outputWidth)..<(rows.upperBound * outputWidth)
                switch convolution.kind {
                case .pointwise:
                    PointwiseConvolution.forward(
                        input: input, inputChannels: geometry.inputChannels, packedWeights: weights,
                        outputChannels: outputChannels, bias: bias,
                        residual: residual.map { UnsafePointer($0) }, clamp: clamp, output: output, pixels: pixels,
                        panels: panels)
                case .depthwise:
                    DepthwiseConvolution.forward(
                        geometry: geometry, input: input, weights: weights, bias: bias,
                        clamp: residual == nil ? clamp : .none, output: output, rows: rows)
                    if let residual {
                        let elements = (pixels.lowerBound * outputChannels)..<(pixels.upperBound * outputChannels)
                        Elementwise.add(output, residual, output: output, range: elements, clamp: clamp)
                    }
                case .general:
                    IndirectConvolution.forward(
                        geometry: geometry, input: input, packedWeights: weights,
                        bias: bias, residual: residual.map { UnsafePointer($0) }, clamp: clamp,
                        output: output, rows: rows, scratch: arena.scratch)
                }
            }
        }
    }

    /// Residual add whose operand shape differs from the convolution output (broadcasting): a separate add,
    /// then the convolution's activation.
    mutating func planSeparateResidual(
        _ node: Node, convolutionOutput: PlannedTensor, residual: PlannedTensor, clamp: Clamp
    ) throws {
        let sum = try binaryStep(node, .add, convolutionOutput, residual)
        if clamp.isNone {
            define(node, sum)
            return
        }
        let output = newTensor(sum.shape, sum.layout)
        read(sum)
        let (source, target, count) = (sum.buffer, output.buffer, sum.count)
        append("\(node.name)::activation", workItems: blocks(count)) { arena, range in
            Elementwise.clamp(values: arena.pointer(source), output: arena.pointer(target),
                              range: Self.elements(range, count), clamp: clamp)
        }
        define(node, output)
    }

    mutating func planGemm(_ node: Node, _ gemm: PreparedGemm) throws {
        let input = plain(try runtime(node.inputs[0], of: node), for: node)
        guard let features = input.shape.last, features == gemm.inputFeatures else {
            throw EngineError(.invalidInput, "\(node.label) expects \(gemm.inputFeatures) input features, got"
                + " shape \(input.shape).")
        }
        let rows = input.count / features
        let outputShape = Array(input.shape.dropLast()) + [gemm.outputFeatures]
        let output = newTensor(outputShape, .plain)
        read(input)
        let (source, target) = (input.buffer, output.buffer)
        let (inputs, outputs) = (gemm.inputFeatures, gemm.outputFeatures)
        append(node.name, workItems: rows) { arena, range in
            let (a, c) = (arena.pointer(source), arena.pointer(target))
            gemm.packedWeights.withUnsafeBufferPointer { weights in
                gemm.bias.withUnsafeBufferPointer { bias in
                    BLAS.multiply(m: range.count, n: outputs, k: inputs, a: a + range.lowerBound * inputs, lda: inputs,
                                  b: weights.baseAddress!, ldb: outputs, c: c + range.lowerBound * outputs, ldc: outputs)
                    Elementwise.biasClamp(values: c + range.lowerBound * outputs, pixels: 0..<range.count,
                                          channels: outputs, bias: bias.baseAddress!, clamp: gemm.clamp)
                }
            }
        }
        define(node, output)
    }

    /// Gemm or MatMul of two computed 2-D matrices (weights that are constants were prepared already).
    mutating func planGenericMatrixProduct(_ node: Node) throws {
        let a = plain(try runtime(node.inputs[0], of: node), for: node)
        let b = plain(try runtime(node.inputs[1], of: node), for: node)
        var transposeB = false
        if case .gemm(let attributes) = node.operation {
            guard !attributes.transposeA, attributes.alpha == 1, node.inputs.count < 3 || node.inputs[2].isEmpty else {
                throw EngineError(.unsupported, "\(node.label) multiplies two computed tensors with transA, alpha or"
                    + " a bias, which is not supported.")
            }
            transposeB = attributes.transposeB
        }
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw EngineError(.unsupported, "\(node.label) multiplies computed tensors of shapes \(a.shape) and"
                + " \(b.shape); only 2-D products are supported.")
        }
        let (m, k) = (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        guard (transposeB ? b.shape[1] : b.shape[0]) == k else {
            throw EngineError(.invalidInput, "\(node.label) cannot multiply \(a.shape) by \(b.shape).")
        }
        let output = newTensor([m, n], .plain)
        read(a, b)
        let (left, right, target, transposed) = (a.buffer, b.buffer, output.buffer, transposeB)
        append(node.name, workItems: 1) { arena, _ in
            if transposed {
                BLAS.multiplyTransposedB(m: m, n: n, k: k, a: arena.pointer(left), lda: k, b: arena.pointer(right),
                                         ldb: k, c: arena.pointer(target), ldc: n)
            } else {
                BLAS.multiply(m: m, n: n, k: k, a: arena.pointer(left), lda: k, b: arena.pointer(right), ldb: n,
                              c: arena.pointer(target), ldc: n)
            }
        }
        define(node, output)
    }
}
