/// Planning max, average and global average pooling.
extension ExecutionPlanner {
    mutating func planPool(_ node: Node, _ attributes: PoolAttributes) throws {
        let input = try nhwc(try runtime(node.inputs[0], of: node), for: node)
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let window = attributes.window
        var pads = window.resolvedPads(height: h, width: w)
        if attributes.ceilMode {
            // Grow the bottom/right padding so floor division gives ONNX's ceil-mode size, dropping a last
            // window that would start in the padding.
            func ceilExtra(_ size: Int, _ before: Int, _ after: Int, _ kernel: Int, _ stride: Int) -> Int {
                let span = size + before + after - kernel
                var count = (span + stride - 1) / stride + 1
                if (count - 1) * stride >= size + before { count -= 1 }
                return max((count - 1) * stride + kernel - (size + before + after), 0)
            }
            let extraBottom = ceilExtra(h, pads.top, pads.bottom, window.kernelHeight, window.strideHeight)
            let extraRight = ceilExtra(w, pads.left, pads.right, window.kernelWidth, window.strideWidth)
            if attributes.kind == .average, attributes.countIncludePad, extraBottom + extraRight > 0 {
                throw EngineError(.unsupported, "\(node.label) combines ceil_mode with count_include_pad, which is"
                    + " not supported.")
            }
            pads.bottom += extraBottom
            pads.right += extraRight
        }
        guard h + pads.top + pads.bottom >= window.kernelHeight, w + pads.left + pads.right >= window.kernelWidth else {
            throw EngineError(.invalidInput, "\(node.label): its window does not fit the \(h)x\(w) input.")
        }
        let geometry = ConvolutionGeometry(
            batch: n, inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: c,
            kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth, strideHeight: window.strideHeight,
            strideWidth: window.strideWidth, padTop: pads.top, padLeft: pads.left, padBottom: pads.bottom,
            padRight: pads.right)
        let output = newTensor([n, c, geometry.outputHeight, geometry.outputWidth], .nhwc)
        read(input)
        let (source, target) = (input.buffer, output.buffer)
        let countIncludePad = attributes.countIncludePad
        switch attributes.kind {
        case .max:
            append(node.name, workItems: geometry.outputRows) { arena, rows in
                Pooling.max(geometry: geometry, input: arena.pointer(source), output: arena.pointer(target), rows: rows)
            }
        case .average:
            append(node.name, workItems: geometry.outputRows) { arena, rows in
                Pooling.average(geometry: geometry, countIncludePad: countIncludePad, input: arena.pointer(source),
                                output: arena.pointer(target), rows: rows)
            }
        }
        define(node, output)
    }
}
