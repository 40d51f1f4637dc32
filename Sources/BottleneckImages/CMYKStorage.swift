/// How a JPEG stores its CMYK samples, and their conversion to RGB.
///
/// Adobe's applications (Photoshop) write CMYK and YCCK JPEGs with an APP14 "Adobe" marker and store every
/// sample inverted (0 = full ink); other writers store plain CMYK (255 = full ink). libjpeg returns the samples as
/// stored, so the decoder picks the convention from the marker. (Pillow assumes the inverted convention for every
/// CMYK JPEG; the two agree on all files with the marker, which is nearly all CMYK JPEGs in the wild.)
package enum CMYKStorage: Sendable {
    /// 255 means full ink.
    case plain
    /// 0 means full ink (files with an Adobe APP14 marker).
    case inverted

    /// Converts `width * height * 4` stored C, M, Y, K samples to `width * height * 3` RGB bytes.
    ///
    /// Concretely, with ink amounts `c` and `k` in 0...255 (after undoing the inversion),
    /// `R = (255 - k) - round((255 - k) * c / 255)`, likewise G from M and B from Y: Pillow's `cmyk2rgb`, with its
    /// integer rounding, so both give the same bytes. No colour profile is applied.
    package func rgb(fromCMYK cmyk: [UInt8]) -> [UInt8] {
        precondition(cmyk.count % 4 == 0, "CMYK data holds 4 bytes per pixel, got \(cmyk.count) bytes")
        let pixelCount = cmyk.count / 4
        let flip: UInt32 = self == .inverted ? 255 : 0
        return [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { rgb, count in
            cmyk.withUnsafeBufferPointer { cmyk in
                for pixel in 0..<pixelCount {
                    let remainingLight = 255 - (UInt32(cmyk[pixel * 4 + 3]) ^ flip)
                    for channel in 0..<3 {
                        let ink = UInt32(cmyk[pixel * 4 + channel]) ^ flip
                        let product = ink * remainingLight + 128
                        rgb[pixel * 3 + channel] = UInt8(remainingLight - (((product >> 8) + product) >> 8))
                    }
                }
            }
            count = pixelCount * 3
        }
    }
}
