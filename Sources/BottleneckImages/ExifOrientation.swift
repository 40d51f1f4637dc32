/// The eight values of the EXIF Orientation tag (0x0112): how to turn the stored pixels to display them upright.
///
/// The names say what to do to the stored image, as in Pillow's `ImageOps.exif_transpose`. Values 5 to 8 swap
/// width and height.
package enum ExifOrientation: Int, CaseIterable, Sendable {
    /// 1: already upright.
    case identity = 1
    /// 2: mirror left to right.
    case mirrorHorizontal = 2
    /// 3: rotate by 180°.
    case rotate180 = 3
    /// 4: mirror top to bottom.
    case mirrorVertical = 4
    /// 5: mirror across the main diagonal (the top-left pixel stays; rows become columns).
    case transpose = 5
    /// 6: rotate by 90° clockwise.
    case rotate90Clockwise = 6
    /// 7: mirror across the anti-diagonal (the top-right pixel moves to the bottom-left).
    case transverse = 7
    /// 8: rotate by 270° clockwise (90° counter-clockwise).
    case rotate270Clockwise = 8

    /// Whether the displayed image has width and height swapped.
    package var swapsAxes: Bool { rawValue >= 5 }

    /// The image turned upright.
    ///
    /// Concretely, output pixel `(x, y)` of a `W` x `H` input comes from input pixel
    /// `mirrorHorizontal: (W-1-x, y)`, `rotate180: (W-1-x, H-1-y)`, `mirrorVertical: (x, H-1-y)`,
    /// `transpose: (y, x)`, `rotate90Clockwise: (y, H-1-x)`, `transverse: (W-1-y, H-1-x)`,
    /// `rotate270Clockwise: (W-1-y, x)`.
    package func apply(to image: RGBImage) -> RGBImage {
        if self == .identity { return image }
        let width = image.width
        let height = image.height
        let outputWidth = swapsAxes ? height : width
        let outputHeight = swapsAxes ? width : height
        // For output row y: the input pixel of output column 0, and the input step per output column.
        func rowStart(_ y: Int) -> (x: Int, y: Int, step: Int) {
            switch self {
            case .identity: (0, y, 1)
            case .mirrorHorizontal: (width - 1, y, -1)
            case .rotate180: (width - 1, height - 1 - y, -1)
            case .mirrorVertical: (0, height - 1 - y, 1)
            case .transpose: (y, 0, width)
            case .rotate90Clockwise: (y, height - 1, -width)
            case .transverse: (width - 1 - y, height - 1, -width)
            case .rotate270Clockwise: (width - 1 - y, 0, width)
            }
        }
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { output, count in
            image.pixels.withUnsafeBufferPointer { input in
                for y in 0..<outputHeight {
                    let start = rowStart(y)
                    var source = (start.y * width + start.x) * 3
                    var target = y * outputWidth * 3
                    for _ in 0..<outputWidth {
                        output[target] = input[source]
                        output[target + 1] = input[source + 1]
                        output[target + 2] = input[source + 2]
                        source += start.step * 3
                        target += 3
                    }
                }
            }
            count = image.pixels.count
        }
        return RGBImage(width: outputWidth, height: outputHeight, pixels: pixels)
    }
}
