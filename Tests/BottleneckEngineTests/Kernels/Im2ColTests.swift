import BottleneckEngine
import Testing

@Suite struct Im2ColTests {
    static let geometries: [ConvolutionGeometry] = [
        // Stem-like: 3 input channels, stride 2, TF-SAME asymmetric pads, batch 3.
        ConvolutionGeometry(batch: 3, inputHeight: 9, inputWidth: 10, inputChannels: 3, outputChannels: 5,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            padTop: 0, padLeft: 1, padBottom: 1, padRight: 2),
        // Two groups of 5 input and 3 output channels, stride 1, uneven pads.
        ConvolutionGeometry(batch: 1, inputHeight: 7, inputWidth: 6, inputChannels: 10, outputChannels: 6,
                            kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 0, padBottom: 2, padRight: 1,
                            groups: 2),
        // Two groups, 17 channels each, 5x3 kernel, stride 2 x 1.
        ConvolutionGeometry(batch: 3, inputHeight: 11, inputWidth: 5, inputChannels: 34, outputChannels: 2,
                            kernelHeight: 5, kernelWidth: 3, strideHeight: 2, strideWidth: 1,
                            padTop: 2, padLeft: 1, padBottom: 1, padRight: 1, groups: 2),
        // 1x1 stride 2 (a ResNet downsampling shortcut), 33 channels.
        ConvolutionGeometry(batch: 1, inputHeight: 5, inputWidth: 7, inputChannels: 33, outputChannels: 7,
                            kernelHeight: 1, kernelWidth: 1, strideHeight: 2, strideWidth: 2),
        // 7x7 kernel on a 4x4 input with pad 3: every window reaches into the padding on both sides.
        ConvolutionGeometry(batch: 1, inputHeight: 4, inputWidth: 4, inputChannels: 5, outputChannels: 3,
                            kernelHeight: 7, kernelWidth: 7, strideHeight: 2, strideWidth: 2,
                            padTop: 3, padLeft: 3, padBottom: 3, padRight: 3),
    ]

    /// The textbook im2col, one element at a time, as `[outputRows * outputWidth, kH * kW * Cin/g]`.
    static func naiveColumns(geometry g: ConvolutionGeometry, group: Int, input: [Float]) -> [Float] {
        let groupChannels = g.inputChannelsPerGroup
        let columnCount = g.kernelHeight * g.kernelWidth * groupChannels
        var columns = [Float](repeating: 0, count: g.outputRows * g.outputWidth * columnCount)
        for n in 0..<g.batch {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let iy = oy * g.strideHeight - g.padTop + ky
                            let ix = ox * g.strideWidth - g.padLeft + kx
                            guard iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth else { continue }
                            for c in 0..<groupChannels {
                                let pixel = (n * g.outputHeight + oy) * g.outputWidth + ox
                                columns[pixel * columnCount + (ky * g.kernelWidth + kx) * groupChannels + c] =
                                    input[((n * g.inputHeight + iy) * g.inputWidth + ix) * g.inputChannels
                                        + group * groupChannels + c]
                            }
                        }
                    }
                }
            }
        }
        return columns
    }

    @Test(arguments: geometries)
    func packMatchesNaiveIm2Col(geometry: ConvolutionGeometry) {
        var random = SplitMix64(seed: 0x1C01)
        let inputValues = random.floats(geometry.inputCount)
        let input = FloatBuffer(inputValues)
        let columnCount = Im2Col.columnCount(geometry: geometry)
        let sentinel = Float.nan
        let columns = FloatBuffer(repeating: sentinel, count: geometry.outputRows * geometry.outputWidth * columnCount)
        defer { [input, columns].forEach { $0.deallocate() } }
        for group in 0..<geometry.groups {
            columns.pointer.update(repeating: sentinel, count: columns.count)
            runInPieces(rows: 0..<geometry.outputRows, rowSize: geometry.outputWidth * columnCount, output: columns,
                        sentinel: sentinel) { rows in
                Im2Col.pack(geometry: geometry, group: group, input: input.pointer, columns: columns.pointer,
                            rows: rows)
            }
            // Pure data movement: exact.
            #expect(columns.values == Self.naiveColumns(geometry: geometry, group: group, input: inputValues),
                    "group \(group)")
        }
    }

    /// ONNX `[Cout, Cin/g, kH, kW]` to one `[kH, kW, Cin/g, Cout/g]` matrix per group, concatenated by group.
    static func packWeights(geometry g: ConvolutionGeometry, oihw: [Float]) -> [Float] {
        let (groupInputs, groupOutputs) = (g.inputChannelsPerGroup, g.outputChannelsPerGroup)
        let groupSize = g.kernelHeight * g.kernelWidth * groupInputs * groupOutputs
        var packed = [Float](repeating: 0, count: g.groups * groupSize)
        for group in 0..<g.groups {
            for co in 0..<groupOutputs {
                for ci in 0..<groupInputs {
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let row = (ky * g.kernelWidth + kx) * groupInputs + ci
                            packed[group * groupSize + row * groupOutputs + co] =
                                oihw[(((group * groupOutputs + co) * groupInputs + ci) * g.kernelHeight + ky)
                                    * g.kernelWidth + kx]
                        }
                    }
                }
            }
        }
        return packed
    }

    @Test(arguments: geometries)
    func columnsTimesPackedWeightsMatchReferenceConvolution(geometry: ConvolutionGeometry) {
        var random = SplitMix64(seed: 0xC0DE)
        let g = geometry
        let weightValues = random.floats(g.outputChannels * g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth)
        let biasValues = random.floats(g.outputChannels)
        let input = FloatBuffer(random.floats(g.inputCount))
        let weights = FloatBuffer(weightValues)
        let bias = FloatBuffer(biasValues)
        let expected = FloatBuffer(repeating: 0, count: g.outputCount)
        let columnCount = Im2Col.columnCount(geometry: g)
        let pixels = g.outputRows * g.outputWidth
        let columns = FloatBuffer(repeating: 0, count: pixels * columnCount)
        defer { [input, weights, bias, expected, columns].forEach { $0.deallocate() } }
        let clamp = Clamp.relu6
        ConvolutionReference.forward(geometry: g, input: input.pointer, weightsOIHW: weights.pointer,
                                     bias: bias.pointer, clamp: clamp, output: expected.pointer)

        let packed = Self.packWeights(geometry: g, oihw: weightValues)
        let groupOutputs = g.outputChannelsPerGroup
        var actual = [Float](repeating: 0, count: g.outputCount)
        for group in 0..<g.groups {
            Im2Col.pack(geometry: g, group: group, input: input.pointer, columns: columns.pointer,
                        rows: 0..<g.outputRows)
            let matrix = columns.values
            for pixel in 0..<pixels {
                for co in 0..<groupOutputs {
                    var sum = biasValues[group * groupOutputs + co]
                    for k in 0..<columnCount {
                        sum += matrix[pixel * columnCount + k]
                            * packed[(group * columnCount + k) * groupOutputs + co]
                    }
                    actual[pixel * g.outputChannels + group * groupOutputs + co] = clamp.apply(sum)
                }
            }
        }
        // Sums of up to 7*7*17 products of values in [-1, 1] taken in a different order (kh, kw, c versus
        // c, kh, kw): fp32 rounding differences stay below 1e-5 relative to max(1, |value|).
        #expect(maximumError(actual, expected.values) <= 1e-5)
    }
}
