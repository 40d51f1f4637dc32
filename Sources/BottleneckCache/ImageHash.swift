import ContentHashing
import Foundation

/// The SHA-256 of an image file's bytes: the key of a cached vector inside a ``CacheNamespace``. Two files with the
/// same bytes share one vector; editing an image changes its hash, so only that image is extracted again.
///
/// Stored as four big-endian 64-bit words, so comparing hashes orders them like their hex strings.
public struct ImageHash: Sendable, Hashable, Comparable, CustomStringConvertible {
    let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// From the 32 digest bytes.
    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count == 32 else {
            throw CacheError(.invalidHash, "an image hash is 32 bytes (SHA-256), got \(bytes.count)")
        }
        var words = [UInt64](repeating: 0, count: 4)
        for (offset, byte) in bytes.enumerated() { words[offset / 8] = words[offset / 8] << 8 | UInt64(byte) }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// From a SHA-256 digest, e.g. `ImageHash(SHA256.hash(data))`.
    public init(_ digest: SHA256.Digest) {
        try! self.init(bytes: digest.bytes)  // a SHA-256 digest is always 32 bytes
    }

    /// From 64 hexadecimal digits (either case), as `DatasetItem.contentHash` holds them.
    public init(hex: String) throws {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else {
            throw CacheError(.invalidHash, "'\(hex)' is not an image hash: expected 64 hex digits, got \(utf8.count)")
        }
        var words: [UInt64] = [0, 0, 0, 0]
        for (offset, character) in utf8.enumerated() {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: throw CacheError(.invalidHash, "'\(hex)' is not an image hash: it has a non-hex character")
            }
            words[offset / 16] = words[offset / 16] << 4 | UInt64(nibble)
        }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// The hash of `data`'s bytes.
    public static func of(_ data: Data) -> ImageHash { ImageHash(SHA256.hash(data)) }

    /// The hash of a file's bytes.
    public static func of(contentsOf url: URL) throws -> ImageHash { ImageHash(try SHA256.hash(contentsOf: url)) }

    /// The 32 digest bytes.
    public var bytes: [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return result
    }

    /// 64 lowercase hex digits.
    public var hexString: String {
        [w0, w1, w2, w3].map { word -> String in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    public var description: String { hexString }

    /// The first 8 bytes as a big-endian integer, which ``ShardAssignment`` partitions on.
    public var prefix64: UInt64 { w0 }

    public static func < (lhs: ImageHash, rhs: ImageHash) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }

    /// Writes the 32 bytes at `destination`.
    func store(to destination: UnsafeMutableRawPointer) {
        destination.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
        destination.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
        destination.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
        destination.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// Reads 32 bytes at `source`.
    init(loadingFrom source: UnsafeRawPointer) {
        w0 = UInt64(bigEndian: source.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: source.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: source.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: source.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }
}
