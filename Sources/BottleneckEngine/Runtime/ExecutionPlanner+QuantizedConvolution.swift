/// Planning int8 pointwise convolutions (`Precision.int8`).
extension ExecutionPlanner {
    /// Virtual buffers of a quantized NHWC tensor: its u8 pixels (four to a float of the arena), then per image row
    /// a scale, followed by per image row an int32 zero point.
    struct QuantizedBuffers {
        let bytes: Int
        let scales: Int
        let rows: Int
        let width: Int

        /// The kernel's view of the buffers in `arena`, pixel 0 of row 0 first.
        func input(_ arena: Arena) -> QuantizedPointwiseConvolution.Input {
            let scales = arena.pointer(self.scales)
            return .init(bytes: arena.bytes(bytes), scales: scales,
                         zeroPoints: UnsafeRawPointer(scales + rows).assumingMemoryBound(to: Int32.self),
                         pixelsPerScale: width)
        }
    }

    /// Appends a step quantizing the NHWC tensor `input` to u8 pixels of `stride` bytes, each image row over its
    /// own range (rows are the work items), and returns where they go. Marks `input` read.
    mutating func appendQuantize(_ node: Node, _ input: PlannedTensor, stride: Int) -> QuantizedBuffers {
        let (channels, rows, width) = (input.shape[1], input.shape[0] * input.shape[2], input.shape[3])
        read(input)
        let quantized = QuantizedBuffers(bytes: newBuffer(count: (rows * width * stride + 3) / 4),
                                         scales: newBuffer(count: 2 * rows), rows: rows, width: width)
        let source = input.buffer
        append("\(node.name)::quantize", workItems: rows) { arena, range in
            let (scales, bytes) = (arena.pointer(quantized.scales), arena.bytes(quantized.bytes))
            for row in range {
                let scale = QuantizedPointwiseConvolution.quantize(
                    input: arena.pointer(source) + row * width * channels, pixels: width, channels: channels,
                    output: bytes + row * width * stride, stride: stride)
                scales[row] = scale.scale
                UnsafeMutableRawPointer(scales + rows).storeBytes(
                    of: scale.zeroPoint, toByteOffset: row * MemoryLayout<Int32>.stride, as: Int32.self)
            }
        }
        return quantized
    }

    /// Marks the quantized buffers read by the step about to be appended.
    mutating func read(_ quantized: QuantizedBuffers) {
        for buffer in [quantized.bytes, quantized.scales] {
            bufferLastUse[buffer] = max(bufferLastUse[buffer], steps.count)
        }
    }

    /// Appends an int8 pointwise convolution: a quantize step, then the convolution split between threads by
    /// output rows or by weight panels as its fp32 form would be. The caller has marked `residual` read.
    mutating func appendQuantizedPointwise(
        _ node: Node, _ convolution: QuantizedPointwiseConvolution, geometry: ConvolutionGeometry,
        input: PlannedTensor, output: PlannedTensor, residual: PlannedTensor?, clamp: Clamp, splitsPanels: Bool
    ) {
        let quantized = appendQuantize(node, input, stride: convolution.inputStride)
        read(quantized)
        if let residual { read(residual) }
        let (target, residualBuffer, outputWidth) = (output.buffer, residual?.buffer, geometry.outputWidth)
        let allRows = 0..<geometry.outputRows
        append(node.name, workItems: splitsPanels ? convolution.panelCount : allRows.count) { arena, items in
            let rows = splitsPanels ? allRows : items
            convolution.forward(
                input: quantized.input(arena), residual: residualBuffer.map { UnsafePointer(arena.pointer($0)) },
                clamp: clamp, output: arena.pointer(target),
                pixels: (rows.lowerBound * outputWidth)..<(rows.upperBound * outputWidth),
                panels: splitsPanels ? items : nil)
        }
    }
}
