import Foundation

/// Writes small checkpoints in the legacy torch.save format, with the same opcodes torch uses (protocol 2), so
/// tests can build state dicts of any shape without PyTorch.
struct LegacyCheckpointWriter {
    enum StorageType: String {
        case float = "FloatStorage", long = "LongStorage", double = "DoubleStorage", half = "HalfStorage"
    }

    struct Storage {
        let key: String
        let type: StorageType
        let elementCount: Int
        let littleEndianBytes: [UInt8]
    }

    struct TensorView {
        let name: String
        let storageKey: String
        let offset: Int
        let shape: [Int]
        let strides: [Int]
    }

    private(set) var storages: [Storage] = []
    private(set) var tensors: [TensorView] = []

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }

    mutating func addStorage(key: String, floats: [Float]) {
        storages.append(Storage(key: key, type: .float, elementCount: floats.count,
                                littleEndianBytes: floats.flatMap { Self.bytes(of: $0.bitPattern) }))
    }

    mutating func addStorage(key: String, longs: [Int64]) {
        storages.append(Storage(key: key, type: .long, elementCount: longs.count,
                                littleEndianBytes: longs.flatMap { Self.bytes(of: UInt64(bitPattern: $0)) }))
    }

    mutating func addStorage(key: String, doubles: [Double]) {
        storages.append(Storage(key: key, type: .double, elementCount: doubles.count,
                                littleEndianBytes: doubles.flatMap { Self.bytes(of: $0.bitPattern) }))
    }

    mutating func addStorage(key: String, halfBitPatterns: [UInt16]) {
        storages.append(Storage(key: key, type: .half, elementCount: halfBitPatterns.count,
                                littleEndianBytes: halfBitPatterns.flatMap { Self.bytes(of: $0) }))
    }

    mutating func addView(_ name: String, storageKey: String, offset: Int = 0, shape: [Int], strides: [Int]? = nil) {
        tensors.append(TensorView(name: name, storageKey: storageKey, offset: offset, shape: shape,
                                  strides: strides ?? Self.contiguousStrides(shape)))
    }

    /// A contiguous float tensor with its own storage.
    mutating func addTensor(_ name: String, shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *))
        let key = "\(storages.count + 1000)"
        addStorage(key: key, floats: values)
        addView(name, storageKey: key, shape: shape)
    }

    func makeData() -> Data {
        var out: [UInt8] = []
        // 1. magic number (LONG1), 2. protocol version, 3. system info
        out += [0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]
        out += [0x80, 2, 0x4d, 0xe9, 0x03, 0x2e]
        out += [0x80, 2, 0x7d, 0x28] + unicode("little_endian") + [0x88] + unicode("protocol_version") + [0x4d, 0xe9, 0x03]
            + [0x75, 0x2e]
        // 4. the state dict
        out += [0x80, 2] + global("collections", "OrderedDict") + [0x29, 0x52, 0x28]
        for tensor in tensors {
            let storage = storages.first { $0.key == tensor.storageKey }!
            out += unicode(tensor.name) + global("torch._utils", "_rebuild_tensor_v2") + [0x28]
            out += [0x28] + unicode("storage") + global("torch", storage.type.rawValue) + unicode(storage.key)
                + unicode("cpu") + int(storage.elementCount) + [0x4e, 0x74, 0x51]
            out += int(tensor.offset) + [0x28] + tensor.shape.flatMap(int) + [0x74]
                + [0x28] + tensor.strides.flatMap(int) + [0x74]
            out += [0x89] + global("collections", "OrderedDict") + [0x29, 0x52] + [0x74, 0x52]
        }
        out += [0x75, 0x2e]
        // 5. storage keys, then each storage's element count and bytes
        out += [0x80, 2, 0x5d, 0x28] + storages.flatMap { unicode($0.key) } + [0x65, 0x2e]
        for storage in storages {
            out += Self.bytes(of: UInt64(storage.elementCount)) + storage.littleEndianBytes
        }
        return Data(out)
    }

    private func unicode(_ s: String) -> [UInt8] { [0x58] + Self.bytes(of: UInt32(s.utf8.count)) + Array(s.utf8) }
    private func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }
    private func int(_ v: Int) -> [UInt8] { [0x4a] + Self.bytes(of: UInt32(bitPattern: Int32(v))) }

    static func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
