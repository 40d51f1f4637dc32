import Foundation

/// How vector elements are stored in shards. Vectors are always handed in and out as `Float`.
///
/// - `float32`: exact.
/// - `float16`: half the disk and memory; values are rounded to nearest-even binary16, a relative error of at
///   most 2⁻¹¹ (≈ 4.9e-4) for magnitudes in 6.1e-5...65504 and an absolute error of at most 2⁻²⁵ (≈ 3e-8) below.
///   Values above 65504 in magnitude are rejected rather than stored as infinity.
public enum VectorDType: String, Sendable, Hashable, Codable, CaseIterable {
    case float32
    case float16

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .float32: 4
        case .float16: 2
        }
    }

    /// The code in a shard header.
    var code: UInt8 {
        switch self {
        case .float32: 1
        case .float16: 2
        }
    }

    init?(code: UInt8) {
        switch code {
        case 1: self = .float32
        case 2: self = .float16
        default: return nil
        }
    }

    /// Whether this platform can convert to and from the type (Swift has no Float16 on Intel macOS).
    public var isSupported: Bool {
        #if os(macOS) && arch(x86_64)
        self == .float32
        #else
        true
        #endif
    }

    /// Appends `vector` encoded little-endian to `buffer`. Throws for NaN, infinity, and values float16 cannot hold.
    func encode(_ vector: UnsafeBufferPointer<Float>, into buffer: inout [UInt8]) throws {
        // NaN and infinity are the values whose exponent bits are all ones; a branch-free max finds them.
        var largestExponent: UInt32 = 0
        for value in vector { largestExponent = max(largestExponent, value.bitPattern & 0x7F80_0000) }
        if largestExponent == 0x7F80_0000, let index = vector.firstIndex(where: { !$0.isFinite }) {
            throw CacheError(.invalidValue, "element \(index) of the vector is \(vector[index]); only finite values "
                             + "are cached")
        }
        switch self {
        case .float32:
            #if _endian(little)
            buffer.append(contentsOf: UnsafeRawBufferPointer(vector))
            #else
            for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { buffer.append(contentsOf: $0) } }
            #endif
        case .float16:
            #if os(macOS) && arch(x86_64)
            throw CacheError(.unsupportedDType, "float16 vectors need Float16, which Swift lacks on Intel macOS")
            #else
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: vector.count * 2))
            try buffer.withUnsafeMutableBytes { raw in
                for (index, value) in vector.enumerated() {
                    guard abs(value) <= Float(Float16.greatestFiniteMagnitude) else {
                        throw CacheError(.invalidValue, "element \(index) of the vector is \(value), beyond float16's "
                                         + "largest value 65504; use a float32 cache for this backbone")
                    }
                    raw.storeBytes(of: Float16(value).bitPattern.littleEndian, toByteOffset: start + 2 * index,
                                   as: UInt16.self)
                }
            }
            #endif
        }
    }

    /// Decodes `count` elements from `source` (little-endian, any alignment) into `destination`.
    func decode(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32:
            #if _endian(little)
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
            #else
            for i in 0..<count {
                destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i,
                                                                                            as: UInt32.self)))
            }
            #endif
        case .float16:
            #if os(macOS) && arch(x86_64)
            preconditionFailure("float16 shards are rejected before decoding on this platform")
            #else
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = Float(Float16(bitPattern: bits))
            }
            #endif
        }
    }
}
