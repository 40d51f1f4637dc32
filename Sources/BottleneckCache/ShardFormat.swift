import Foundation

/// The binary shard file; docs/cache-format.md is the specification. All integers are little-endian.
///
///     header   64 bytes   magic "BNKSHARD", version, dtype, dimension, count, namespace tag, index CRC, header CRC
///     index    32 x count image hashes (SHA-256 bytes)
///     vectors  count x dimension x (4 or 2) bytes, record i at index end + i x vector size
///     footer   16 bytes   CRC-32C of everything before the footer, 4 zero bytes, magic "ENDSHARD"
///
/// The header and index can be read and checked alone (one ranged read), so opening a cache reads no vectors.
enum ShardFormat {
    static let version: UInt16 = 1
    static let headerSize = 64
    static let footerSize = 16
    static let hashSize = 32
    static let magic = Array("BNKSHARD".utf8)
    static let endMagic = Array("ENDSHARD".utf8)

    /// Bytes of a shard of `count` vectors.
    static func size(count: Int, dimension: Int, dtype: VectorDType) -> Int {
        headerSize + count * (hashSize + dimension * dtype.byteWidth) + footerSize
    }

    /// Bytes of the header plus index, what opening a cache reads per shard.
    static func indexSize(count: Int) -> Int { headerSize + count * hashSize }

    /// The largest count whose shard fits in `maxBytes` (at least 1).
    static func capacity(maxBytes: Int, dimension: Int, dtype: VectorDType) -> Int {
        max(1, (maxBytes - headerSize - footerSize) / (hashSize + dimension * dtype.byteWidth))
    }

    struct Header: Equatable {
        var dtype: VectorDType
        var dimension: Int
        var count: Int
        var namespaceTag: UInt64
        var indexCRC: UInt32
    }

    /// A shard's bytes from its hashes and their already encoded vectors. Returns the bytes, the body CRC and the
    /// index CRC.
    static func encode(namespace: CacheNamespace, hashes: [ImageHash], vectorBytes: UnsafeRawBufferPointer)
        -> (data: Data, crc: UInt32, indexCRC: UInt32) {
        let count = hashes.count
        let total = size(count: count, dimension: namespace.dimension, dtype: namespace.dtype)
        precondition(vectorBytes.count == count * namespace.dimension * namespace.dtype.byteWidth)
        var data = Data(count: total)
        let (crc, indexCRC) = data.withUnsafeMutableBytes { raw -> (UInt32, UInt32) in
            let base = raw.baseAddress!
            for (i, hash) in hashes.enumerated() { hash.store(to: base + headerSize + i * hashSize) }
            let indexCRC = CRC32C.checksum(UnsafeRawBufferPointer(start: base + headerSize, count: count * hashSize))
            // Header.
            base.copyMemory(from: magic, byteCount: 8)
            base.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt16.self)
            base.storeBytes(of: namespace.dtype.code, toByteOffset: 10, as: UInt8.self)
            base.storeBytes(of: UInt32(namespace.dimension).littleEndian, toByteOffset: 12, as: UInt32.self)
            base.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 16, as: UInt32.self)
            base.storeBytes(of: namespace.tag.littleEndian, toByteOffset: 24, as: UInt64.self)
            base.storeBytes(of: indexCRC.littleEndian, toByteOffset: 32, as: UInt32.self)
            let headerCRC = CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 60))
            base.storeBytes(of: headerCRC.littleEndian, toByteOffset: 60, as: UInt32.self)
            // Vectors.
            let vectorsStart = indexSize(count: count)
            if vectorBytes.count > 0 {
                (base + vectorsStart).copyMemory(from: vectorBytes.baseAddress!, byteCount: vectorBytes.count)
            }
            // Footer.
            let footerStart = total - footerSize
            let bodyCRC = CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: footerStart))
            base.storeBytes(of: bodyCRC.littleEndian, toByteOffset: footerStart, as: UInt32.self)
            (base + footerStart + 8).copyMemory(from: endMagic, byteCount: 8)
            return (bodyCRC, indexCRC)
        }
        return (data, crc, indexCRC)
    }

    /// Checks the header and index at the start of `bytes` (which may hold more of the shard) against the manifest's
    /// entry and returns them.
    static func readIndex(_ bytes: UnsafeRawBufferPointer, namespace: CacheNamespace, entry: ShardEntry)
        throws(ShardDamage) -> (Header, [ImageHash]) {
        let expectedCount = entry.count
        guard bytes.count >= headerSize else {
            throw .truncated("the file has \(bytes.count) bytes, less than the \(headerSize)-byte header")
        }
        let base = bytes.baseAddress!
        guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == magic else {
            throw .malformed("it does not start with the magic \"BNKSHARD\"")
        }
        let storedHeaderCRC = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        let headerCRC = CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 60))
        guard storedHeaderCRC == headerCRC else {
            throw .checksum("header checksum mismatch: stored \(storedHeaderCRC.hex8), computed \(headerCRC.hex8)")
        }
        let version = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        guard version == Self.version else {
            throw .malformed("format version \(version) is not supported (this build reads version \(Self.version))")
        }
        let dtypeCode = base.load(fromByteOffset: 10, as: UInt8.self)
        guard let dtype = VectorDType(code: dtypeCode) else { throw .malformed("unknown dtype code \(dtypeCode)") }
        let header = Header(
            dtype: dtype,
            dimension: Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self))),
            count: Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt32.self))),
            namespaceTag: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
            indexCRC: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
        guard header.namespaceTag == namespace.tag else {
            let tag = String(header.namespaceTag, radix: 16)
            throw .malformed("it belongs to namespace \(String(repeating: "0", count: 16 - tag.count) + tag), "
                             + "not \(namespace.id)")
        }
        guard header.dtype == namespace.dtype, header.dimension == namespace.dimension else {
            throw .malformed("it holds \(header.dimension) x \(header.dtype.rawValue) vectors, the namespace "
                             + "\(namespace.dimension) x \(namespace.dtype.rawValue)")
        }
        guard header.count == expectedCount else {
            throw .malformed("the header says \(header.count) vectors, the manifest \(expectedCount)")
        }
        let indexEnd = indexSize(count: header.count)
        guard bytes.count >= indexEnd else {
            throw .truncated("the file has \(bytes.count) bytes, less than its \(indexEnd)-byte header and index")
        }
        let index = UnsafeRawBufferPointer(start: base + headerSize, count: header.count * hashSize)
        let indexCRC = CRC32C.checksum(index)
        guard indexCRC == header.indexCRC else {
            throw .checksum("index checksum mismatch: stored \(header.indexCRC.hex8), computed \(indexCRC.hex8)")
        }
        guard indexCRC == entry.indexCRC else {
            throw .checksum("the shard's index checksum \(indexCRC.hex8) differs from the manifest's "
                            + "\(entry.indexCRC.hex8): it was replaced after it was committed")
        }
        let hashes = (0..<header.count).map { ImageHash(loadingFrom: base + headerSize + $0 * hashSize) }
        return (header, hashes)
    }

    /// Checks a whole shard: header, index, size, footer and body checksum against the manifest's.
    static func verify(_ bytes: UnsafeRawBufferPointer, namespace: CacheNamespace, entry: ShardEntry)
        throws(ShardDamage) -> (Header, [ImageHash]) {
        let expectedSize = size(count: entry.count, dimension: namespace.dimension, dtype: namespace.dtype)
        if bytes.count < expectedSize {
            throw .truncated("the file has \(bytes.count) bytes, \(expectedSize) expected")
        }
        if bytes.count > expectedSize {
            throw .malformed("the file has \(bytes.count) bytes, \(expectedSize) expected")
        }
        let (header, hashes) = try readIndex(bytes, namespace: namespace, entry: entry)
        let base = bytes.baseAddress!
        let footerStart = expectedSize - footerSize
        guard Array(UnsafeRawBufferPointer(start: base + footerStart + 8, count: 8)) == endMagic else {
            throw .malformed("it does not end with the magic \"ENDSHARD\"")
        }
        let storedCRC = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: footerStart, as: UInt32.self))
        let bodyCRC = CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: footerStart))
        guard bodyCRC == storedCRC else {
            throw .checksum("body checksum mismatch: footer says \(storedCRC.hex8), content is \(bodyCRC.hex8)")
        }
        guard bodyCRC == entry.crc else {
            throw .checksum("the shard's checksum \(bodyCRC.hex8) differs from the manifest's \(entry.crc.hex8): "
                            + "it was replaced after it was committed")
        }
        return (header, hashes)
    }
}

/// Why a shard cannot be used.
enum ShardDamage: Error, CustomStringConvertible {
    case missing
    case truncated(String)
    case malformed(String)
    case checksum(String)

    var description: String {
        switch self {
        case .missing: "the shard is listed in a manifest but the object does not exist"
        case .truncated(let detail): "truncated: \(detail)"
        case .malformed(let detail): "not a valid shard: \(detail)"
        case .checksum(let detail): detail
        }
    }
}
