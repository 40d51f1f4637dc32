/// A slow, obviously correct antialiased bilinear resize in double precision, to check `Preprocessor` against.
///
/// Output sample `i` of an axis scaled by `scale = input / output` sits at `center = (i + 0.5) * scale` in input
/// coordinates; input sample `j` (at `j + 0.5`) gets the weight `max(0, 1 - |j + 0.5 - center| / max(scale, 1))`
/// (a triangle, widened when shrinking so that every input contributes), and the weights are divided by their
/// sum. Rows are resized first, then columns, with no rounding in between or at the end.
///
/// The fast path differs from this only by its 8-bit rounding after each pass (and its 22-bit fixed-point
/// weights): at most 0.5 level per pass plus ~1e-4, so at most ~1.0 level after the two passes.
public enum ReferenceResampler {
    /// The whole image resized to `width` x `height`: `[height, width, 3]` unrounded values in 0...255.
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> [Double] {
        precondition(width > 0 && height > 0)
        let columns = weights(input: image.width, output: width)
        let rows = weights(input: image.height, output: height)
        // Horizontal: [image.height, width, 3].
        var wide = [Double](repeating: 0, count: image.height * width * 3)
        for y in 0..<image.height {
            for x in 0..<width {
                for (j, w) in columns[x] {
                    for c in 0..<3 {
                        wide[(y * width + x) * 3 + c] += w * Double(image.pixels[(y * image.width + j) * 3 + c])
                    }
                }
            }
        }
        // Vertical: [height, width, 3].
        var result = [Double](repeating: 0, count: height * width * 3)
        for y in 0..<height {
            for (j, w) in rows[y] {
                for x in 0..<(width * 3) {
                    result[y * width * 3 + x] += w * wide[j * width * 3 + x]
                }
            }
        }
        return result
    }

    /// The reference preprocessing: resize by `spec`, crop, normalise; NHWC floats like `Preprocessor.prepare`.
    public static func prepare(_ image: RGBImage, spec: PreprocessingSpec) -> [Float] {
        let geometry = PreprocessingGeometry(width: image.width, height: image.height, spec: spec)
        let resized = resize(image, width: geometry.resizedWidth, height: geometry.resizedHeight)
        var output: [Float] = []
        output.reserveCapacity(geometry.cropSize * geometry.cropSize * 3)
        let order = spec.channelOrder == "BGR" ? [2, 1, 0] : [0, 1, 2]
        for y in geometry.cropY..<(geometry.cropY + geometry.cropSize) {
            for x in geometry.cropX..<(geometry.cropX + geometry.cropSize) {
                for c in 0..<3 {
                    let value = resized[(y * geometry.resizedWidth + x) * 3 + order[c]]
                    output.append((Float(value) - spec.mean[c]) / spec.std[c])
                }
            }
        }
        return output
    }

    /// For each output sample, the (input index, weight) pairs with non-zero weight.
    static func weights(input: Int, output: Int) -> [[(Int, Double)]] {
        let scale = Double(input) / Double(output)
        let width = max(scale, 1)
        return (0..<output).map { i in
            let center = (Double(i) + 0.5) * scale
            var taps: [(Int, Double)] = []
            for j in 0..<input {
                let w = 1 - abs(Double(j) + 0.5 - center) / width
                if w > 0 { taps.append((j, w)) }
            }
            let total = taps.reduce(0) { $0 + $1.1 }
            return taps.map { ($0.0, $0.1 / total) }
        }
    }
}
