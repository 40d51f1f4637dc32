import Foundation

/// An IDX file of unsigned bytes, the format of MNIST and Fashion-MNIST: big-endian header `00 00 08 <dims>`,
/// then one 32-bit big-endian size per dimension, then the values in row-major order.
///
///     let images = try IDXFile(contentsOf: url)   // dimensions [60000, 28, 28]
///     let first = images.item(0)                  // 784 bytes, row by row
public struct IDXFile: Sendable {
    /// The size of each dimension, outermost first, e.g. `[60000, 28, 28]` for images or `[60000]` for labels.
    public let dimensions: [Int]
    /// All values, row-major.
    public let values: [UInt8]

    /// Parses IDX bytes.
    ///
    /// - Parameter name: how messages refer to the data, e.g. its file name.
    /// - Throws: ``DatasetError/Code/malformedIDX`` when the magic number is wrong, the type is not unsigned
    ///   bytes, or the data is shorter or longer than the header says.
    public init(bytes: [UInt8], name: String = "IDX data") throws {
        func malformed(_ message: String) -> DatasetError { DatasetError(.malformedIDX, "\(name): \(message)") }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw malformed("not an IDX file (it does not start with 00 00)")
        }
        guard bytes[2] == 0x08 else {
            throw malformed(String(format: "element type 0x%02x is not unsigned bytes (0x08)", bytes[2]))
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else {
            throw malformed("the header of \(rank) dimension\(rank == 1 ? "" : "s") is cut short")
        }
        var dimensions: [Int] = []
        var count = 1
        for axis in 0..<rank {
            let offset = 4 + 4 * axis
            let size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            dimensions.append(size)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw malformed("dimensions \(dimensions) are too large") }
            count = product
        }
        let start = 4 + 4 * rank
        guard bytes.count - start == count else {
            throw malformed("the header promises \(count) values (\(dimensions.map(String.init).joined(separator: "x")))"
                            + " but \(bytes.count - start) follow")
        }
        self.dimensions = dimensions
        self.values = Array(bytes[start...])
    }

    /// Reads an IDX file, decompressing it first when it is gzip (`.gz`, recognised by its content).
    ///
    /// - Throws: ``DatasetError`` when the file cannot be read or decompressed, or is malformed.
    public init(contentsOf url: URL) throws {
        var data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: Gunzip.magic.count) ?? Data()
            if data.starts(with: Gunzip.magic) {
                data = try Gunzip.contents(of: url)
            } else {
                data += try handle.readToEnd() ?? Data()
            }
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError(.unreadable, "cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(bytes: Array(data), name: url.lastPathComponent)
    }

    /// The number of items: the outermost dimension.
    public var count: Int { dimensions[0] }

    /// The values of one item (one image, or one label), row-major.
    public func item(_ index: Int) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < count, "item \(index) of \(count)")
        let size = values.count / max(count, 1)
        return values[index * size..<(index + 1) * size]
    }
}
