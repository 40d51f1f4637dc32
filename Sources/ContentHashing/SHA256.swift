import CSHA256Hardware
import Foundation

/// SHA-256 (FIPS 180-4), for fingerprinting weights, written models and every image extraction reads. Linux has
/// no CryptoKit and the project takes no crypto dependency: blocks are compressed by the CPU's SHA extensions
/// where it has them (`CSHA256Hardware`; this machine: 300 MB/s -> 1.46 GB/s), else by the textbook algorithm.
///
///     var hasher = SHA256()
///     hasher.update(Data("abc".utf8))
///     hasher.finalize().hexString   // "ba7816bf..."
public struct SHA256: Sendable {
    /// How blocks are compressed.
    package enum Implementation: Sendable, CaseIterable {
        /// The x86 SHA extensions; only where `hardwareIsAvailable`.
        case hardware
        /// Portable Swift.
        case software
    }

    /// Whether this CPU has the SHA extensions.
    package static let hardwareIsAvailable = bottleneck_sha256_hardware_available() != 0

    private static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private var state: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]
    private var pending: [UInt8] = []  // fewer than 64 bytes not yet compressed
    private var totalByteCount: UInt64 = 0

    private let implementation: Implementation

    /// A hasher on the fastest implementation this CPU has.
    public init() {
        implementation = Self.hardwareIsAvailable ? .hardware : .software
    }

    /// A hasher on `implementation`, for tests that check both.
    package init(implementation: Implementation) {
        precondition(implementation == .software || Self.hardwareIsAvailable, "this CPU has no SHA extensions")
        self.implementation = implementation
    }

    /// The digest of `data` in one call.
    public static func hash(_ data: Data) -> Digest {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalize()
    }

    /// The digest of a file's content, read in 1 MiB chunks.
    public static func hash(contentsOf url: URL) throws -> Digest {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return hasher.finalize()
    }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update(UnsafeRawBufferPointer($0)) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        totalByteCount &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count == 64 {
                pending.withUnsafeBytes { compress(block: $0) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        let blocks = (bytes.count - offset) / 64
        if blocks > 0 {
            compress(blocks: bytes.baseAddress! + offset, count: blocks)
            offset += blocks * 64
        }
        if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
    }

    /// Pads the message, compresses the last block(s) and returns the digest.
    public mutating func finalize() -> Digest {
        let bitCount = totalByteCount &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitCount >> UInt64(shift))) }
        tail.withUnsafeBytes { all in
            for start in stride(from: 0, to: all.count, by: 64) {
                compress(block: UnsafeRawBufferPointer(rebasing: all[start..<start + 64]))
            }
        }
        pending.removeAll()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for word in state { for shift in [24, 16, 8, 0] { bytes.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) } }
        return Digest(bytes: bytes)
    }

    @inline(__always) private static func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    private mutating func compress(block: UnsafeRawBufferPointer) {
        compress(blocks: block.baseAddress!, count: block.count / 64)
    }

    /// Compresses `count` consecutive 64-byte blocks: on the SHA extensions, or in Swift with the state in locals
    /// for the whole run.
    private mutating func compress(blocks: UnsafeRawPointer, count: Int) {
        if implementation == .hardware {
            Self.roundConstants.withUnsafeBufferPointer { constants in
                state.withUnsafeMutableBufferPointer { state in
                    bottleneck_sha256_compress_hardware(state.baseAddress!, blocks.assumingMemoryBound(to: UInt8.self),
                                                        count, constants.baseAddress!)
                }
            }
            return
        }
        var (h0, h1, h2, h3) = (state[0], state[1], state[2], state[3])
        var (h4, h5, h6, h7) = (state[4], state[5], state[6], state[7])
        Self.roundConstants.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for index in 0..<count {
                    let block = blocks + index &* 64
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t &* 4, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let s0 = Self.rotateRight(w[t &- 15], 7) ^ Self.rotateRight(w[t &- 15], 18) ^ (w[t &- 15] >> 3)
                        let s1 = Self.rotateRight(w[t &- 2], 17) ^ Self.rotateRight(w[t &- 2], 19) ^ (w[t &- 2] >> 10)
                        w[t] = w[t &- 16] &+ s0 &+ w[t &- 7] &+ s1
                    }
                    var (a, b, c, d, e, f, g, h) = (h0, h1, h2, h3, h4, h5, h6, h7)
                    for t in 0..<64 {
                        let s1 = Self.rotateRight(e, 6) ^ Self.rotateRight(e, 11) ^ Self.rotateRight(e, 25)
                        let choice = (e & f) ^ (~e & g)
                        let temp1 = h &+ s1 &+ choice &+ k[t] &+ w[t]
                        let s0 = Self.rotateRight(a, 2) ^ Self.rotateRight(a, 13) ^ Self.rotateRight(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        let temp2 = s0 &+ majority
                        h = g; g = f; f = e; e = d &+ temp1
                        d = c; c = b; b = a; a = temp1 &+ temp2
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
                    h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
                }
            }
        }
        state = [h0, h1, h2, h3, h4, h5, h6, h7]
    }

    /// A 32-byte SHA-256 digest.
    public struct Digest: Sendable, Hashable, CustomStringConvertible {
        public let bytes: [UInt8]

        /// Lower-case hexadecimal, as printed by `sha256sum`.
        public var hexString: String {
            let digits = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            out.reserveCapacity(64)
            for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0x0f)]) }
            return String(decoding: out, as: UTF8.self)
        }

        public var description: String { hexString }
    }
}
