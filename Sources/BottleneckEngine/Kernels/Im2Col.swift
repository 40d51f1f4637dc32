/// Unfolds the convolution windows of one channel group into a matrix, so that a grouped convolution becomes
/// one matrix multiplication per group: `columns [pixels, kernelHeight*kernelWidth*inputChannelsPerGroup] x
/// weights [kernelHeight*kernelWidth*inputChannelsPerGroup, outputChannelsPerGroup]`.
///
/// Input is NHWC `[batch, inputHeight, inputWidth, inputChannels]`. The columns buffer is row-major
/// `[geometry.outputRows * geometry.outputWidth, columnCount(geometry)]`: one row per output pixel, in output
/// order, holding the window in `(kernelY, kernelX, channel)` order to match weights packed as
/// `[kernelHeight, kernelWidth, inputChannelsPerGroup, outputChannelsPerGroup]`. Taps in the padding are zero.
package enum Im2Col {
    /// Floats in one column row: `kernelHeight * kernelWidth * inputChannelsPerGroup`.
    package static func columnCount(geometry: ConvolutionGeometry) -> Int {
        geometry.kernelHeight * geometry.kernelWidth * geometry.inputChannelsPerGroup
    }

    /// Writes the column rows of every output pixel in output rows `rows` (row `n * outputHeight + y`, within
    /// `0..<geometry.outputRows`) for channel group `group`.
    ///
    /// Writes only those column rows (`rows.lowerBound * outputWidth ..< rows.upperBound * outputWidth`), so
    /// calls on disjoint row ranges may run concurrently.
    package static func pack(
        geometry: ConvolutionGeometry, group: Int, input: UnsafePointer<Float>,
        columns: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        precondition(group >= 0 && group < geometry.groups, "group \(group) out of range")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= geometry.outputRows, "rows out of range")
        let channels = geometry.inputChannels
        let groupChannels = geometry.inputChannelsPerGroup
        let kernelRowCount = geometry.kernelWidth * groupChannels
        let columnCount = columnCount(geometry: geometry)
        // With one group a pixel's channels are the group's channels, so neighbouring taps are contiguous.
        let tapsAreContiguous = geometry.groups == 1
        for row in rows {
            let image = row / geometry.outputHeight
            let vertical = WindowSpan(outputY: row % geometry.outputHeight, of: geometry)
            let imageInput = input + image * geometry.inputHeight * geometry.inputWidth * channels
                + group * groupChannels
            for outputX in 0..<geometry.outputWidth {
                let horizontal = WindowSpan(outputX: outputX, of: geometry)
                let leadingZeros = horizontal.taps.lowerBound * groupChannels
                let copied = horizontal.taps.count * groupChannels
                let trailingZeros = kernelRowCount - leadingZeros - copied
                var destination = columns + (row * geometry.outputWidth + outputX) * columnCount
                for ky in 0..<geometry.kernelHeight {
                    guard vertical.taps.contains(ky) else {
                        FloatCopy.fill(destination, with: 0, count: kernelRowCount)
                        destination += kernelRowCount
                        continue
                    }
                    FloatCopy.fill(destination, with: 0, count: leadingZeros)
                    destination += leadingZeros
                    var source = imageInput
                        + ((vertical.origin + ky) * geometry.inputWidth + horizontal.origin + horizontal.taps.lowerBound)
                        * channels
                    if tapsAreContiguous {
                        FloatCopy.copy(from: source, to: destination, count: copied)
                        destination += copied
                    } else {
                        for _ in horizontal.taps {
                            FloatCopy.copy(from: source, to: destination, count: groupChannels)
                            source += channels
                            destination += groupChannels
                        }
                    }
                    FloatCopy.fill(destination, with: 0, count: trailingZeros)
                    destination += trailingZeros
                }
            }
        }
    }
}
