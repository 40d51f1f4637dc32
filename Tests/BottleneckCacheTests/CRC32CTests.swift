@testable import BottleneckCache
import Foundation
import Testing

@Suite("CRC-32C")
struct CRC32CTests {
    /// The check value of the Castagnoli CRC catalogue and the RFC 3720 (iSCSI) appendix B.4 examples.
    static let checkValues: [([UInt8], UInt32)] = [
        ([], 0),
        (Array("123456789".utf8), 0xE306_9283),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
    ]

    @Test("known vectors", arguments: checkValues)
    func knownVectors(bytes: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(Data(bytes)) == expected)
    }

    @Test("incremental updates split anywhere equal one pass")
    func incremental() {
        let data = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
        let whole = CRC32C.checksum(data)
        for split in [0, 1, 3, 7, 8, 9, 500, 999, 1000] {
            var crc = CRC32C()
            crc.update(data[0..<split])
            crc.update(data[split...])
            #expect(crc.value == whole, "split at \(split)")
        }
    }

    @Test("unaligned start gives the same checksum")
    func unaligned() {
        let bytes = (0..<100).map { UInt8($0) }
        let expected = CRC32C.checksum(Data(bytes[3...]))
        bytes.withUnsafeBytes { raw in
            #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[3...])) == expected)
        }
    }
}
