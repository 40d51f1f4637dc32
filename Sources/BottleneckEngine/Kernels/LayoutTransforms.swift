/// Data movement between layouts over contiguous row-major `Float` tensors: NCHW/NHWC conversion at the graph
/// boundary, general transposes, constant padding and channel concatenation.
package enum LayoutTransforms {
    /// Pixels per block in the NCHW/NHWC conversions: a block's reads and writes both stay within a few cache
    /// lines per channel.
    private static let pixelBlock = 32

    /// `[batch, channels, height, width]` to `[batch, height, width, channels]`.
    package static func nchwToNHWC(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, channels: Int, height: Int,
        width: Int
    ) {
        let pixels = height * width
        for image in 0..<batch {
            let source = input + image * channels * pixels
            let destination = output + image * channels * pixels
            if channels == 3 {
                interleaveThreePlanes(source, into: destination, pixels: pixels)
                continue
            }
            for blockStart in stride(from: 0, to: pixels, by: pixelBlock) {
                let blockEnd = min(blockStart + pixelBlock, pixels)
                for channel in 0..<channels {
                    for pixel in blockStart..<blockEnd {
                        destination[pixel * channels + channel] = source[channel * pixels + pixel]
                    }
                }
            }
        }
    }

    /// One RGB image (the input of every image model, converted before each run): with the channel count a
    /// constant the compiler turns this loop into vector loads and shuffles. 224x224, one thread: 86 us in the
    /// blocked loop above, 15 us here.
    private static func interleaveThreePlanes(
        _ planes: UnsafePointer<Float>, into pixels: UnsafeMutablePointer<Float>, pixels count: Int
    ) {
        let (first, second, third) = (planes, planes + count, planes + 2 * count)
        for pixel in 0..<count {
            pixels[3 * pixel] = first[pixel]
            pixels[3 * pixel + 1] = second[pixel]
            pixels[3 * pixel + 2] = third[pixel]
        }
    }

    /// `[batch, height, width, channels]` to `[batch, channels, height, width]`.
    package static func nhwcToNCHW(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, channels: Int, height: Int,
        width: Int
    ) {
        let pixels = height * width
        for image in 0..<batch {
            let source = input + image * channels * pixels
            let destination = output + image * channels * pixels
            for blockStart in stride(from: 0, to: pixels, by: pixelBlock) {
                let blockEnd = min(blockStart + pixelBlock, pixels)
                for channel in 0..<channels {
                    for pixel in blockStart..<blockEnd {
                        destination[channel * pixels + pixel] = source[pixel * channels + channel]
                    }
                }
            }
        }
    }

    /// ONNX `Transpose`: output axis `i` is input axis `permutation[i]`, so the output shape is
    /// `permutation.map { shape[$0] }`.
    package static func transpose(
        input: UnsafePointer<Float>, shape: [Int], permutation: [Int], output: UnsafeMutablePointer<Float>
    ) {
        precondition(permutation.sorted() == Array(shape.indices), "\(permutation) is not a permutation")
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        guard let lastAxis = permutation.last else {
            output[0] = input[0]
            return
        }
        let inputStrides = rowMajorStrides(shape)
        let outputShape = permutation.map { shape[$0] }
        // Stride in the input of a step along each output axis.
        let strides = permutation.map { inputStrides[$0] }
        let innerSize = outputShape[outputShape.count - 1]
        let innerStride = inputStrides[lastAxis]
        let outerAxes = outputShape.count - 1
        var index = [Int](repeating: 0, count: outerAxes)
        var sourceOffset = 0
        for rowStart in stride(from: 0, to: count, by: innerSize) {
            for i in 0..<innerSize { output[rowStart + i] = input[sourceOffset + i * innerStride] }
            var axis = outerAxes - 1
            while axis >= 0 {
                index[axis] += 1
                sourceOffset += strides[axis]
                if index[axis] < outputShape[axis] { break }
                sourceOffset -= strides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// ONNX `Pad` in constant mode: `output` has shape `shape[i] + padsBefore[i] + padsAfter[i]` along every
    /// axis (any rank, e.g. NHWC), filled with `value` around a copy of `input`. Pads must be non-negative.
    package static func pad(
        input: UnsafePointer<Float>, shape: [Int], padsBefore: [Int], padsAfter: [Int], value: Float,
        output: UnsafeMutablePointer<Float>
    ) {
        precondition(padsBefore.count == shape.count && padsAfter.count == shape.count, "one pad per axis")
        precondition((padsBefore + padsAfter).allSatisfy { $0 >= 0 }, "negative pads are not supported")
        let outputShape = shape.indices.map { shape[$0] + padsBefore[$0] + padsAfter[$0] }
        FloatCopy.fill(output, with: value, count: outputShape.reduce(1, *))
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        guard let innerSize = shape.last else {
            output[0] = input[0]
            return
        }
        let outputStrides = rowMajorStrides(outputShape)
        var destinationOffset = zip(padsBefore, outputStrides).reduce(0) { $0 + $1.0 * $1.1 }
        let outerAxes = shape.count - 1
        var index = [Int](repeating: 0, count: outerAxes)
        for rowStart in stride(from: 0, to: count, by: innerSize) {
            (output + destinationOffset).update(from: input + rowStart, count: innerSize)
            var axis = outerAxes - 1
            while axis >= 0 {
                index[axis] += 1
                destinationOffset += outputStrides[axis]
                if index[axis] < shape[axis] { break }
                destinationOffset -= outputStrides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// NHWC concatenation along channels: each of the `pixels` output pixels holds the channels of
    /// `inputs[0]`, then `inputs[1]`, ...; each input is `[pixels, channels]`.
    package static func concatenateChannels(
        inputs: [(UnsafePointer<Float>, channels: Int)], pixels: Int, output: UnsafeMutablePointer<Float>
    ) {
        let outputChannels = inputs.reduce(0) { $0 + $1.channels }
        var channelOffset = 0
        for (source, channels) in inputs {
            for pixel in 0..<pixels {
                FloatCopy.copy(from: source + pixel * channels, to: output + pixel * outputChannels + channelOffset,
                               count: channels)
            }
            channelOffset += channels
        }
    }

    // MARK: - References

    /// Naive `transpose` that unravels every output index separately, the oracle for tests of `transpose`,
    /// `nchwToNHWC` (permutation `[0, 2, 3, 1]`) and `nhwcToNCHW` (`[0, 3, 1, 2]`).
    package static func referenceTranspose(
        input: UnsafePointer<Float>, shape: [Int], permutation: [Int], output: UnsafeMutablePointer<Float>
    ) {
        let outputShape = permutation.map { shape[$0] }
        let inputStrides = rowMajorStrides(shape)
        for flat in 0..<shape.reduce(1, *) {
            var remainder = flat
            var sourceIndex = 0
            for axis in outputShape.indices.reversed() {
                sourceIndex += (remainder % outputShape[axis]) * inputStrides[permutation[axis]]
                remainder /= outputShape[axis]
            }
            output[flat] = input[sourceIndex]
        }
    }

    /// Naive `pad` that decides for every output element whether it is padding, the oracle for tests.
    package static func referencePad(
        input: UnsafePointer<Float>, shape: [Int], padsBefore: [Int], padsAfter: [Int], value: Float,
        output: UnsafeMutablePointer<Float>
    ) {
        let outputShape = shape.indices.map { shape[$0] + padsBefore[$0] + padsAfter[$0] }
        for flat in 0..<outputShape.reduce(1, *) {
            var remainder = flat
            var sourceIndex = 0
            var sourceStride = 1
            var isPadding = false
            for axis in shape.indices.reversed() {
                let coordinate = remainder % outputShape[axis] - padsBefore[axis]
                remainder /= outputShape[axis]
                if coordinate < 0 || coordinate >= shape[axis] { isPadding = true }
                sourceIndex += coordinate * sourceStride
                sourceStride *= shape[axis]
            }
            output[flat] = isPadding ? value : input[sourceIndex]
        }
    }

    /// Naive `concatenateChannels`, element by element, the oracle for tests.
    package static func referenceConcatenateChannels(
        inputs: [(UnsafePointer<Float>, channels: Int)], pixels: Int, output: UnsafeMutablePointer<Float>
    ) {
        var index = 0
        for pixel in 0..<pixels {
            for (source, channels) in inputs {
                for channel in 0..<channels {
                    output[index] = source[pixel * channels + channel]
                    index += 1
                }
            }
        }
    }

    private static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in shape.indices.dropLast().reversed() { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }
}
