import Foundation

/// The element type of a tensor's storage in a torch checkpoint.
public enum TorchDType: String, Sendable, CaseIterable {
    case float32, float64, float16, int64, int32

    /// The storage class torch pickles for this type (`torch.FloatStorage` etc.).
    init?(storageClassName name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "DoubleStorage": self = .float64
        case "HalfStorage": self = .float16
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        default: return nil
        }
    }

    var byteCount: Int {
        switch self {
        case .float16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }

    var isInteger: Bool { self == .int64 || self == .int32 }
}

/// A dense tensor read from a checkpoint, in row-major (C) order whatever its strides were in the file.
public struct TorchTensor: Sendable, Equatable {
    /// The type of the storage in the file.
    public let dtype: TorchDType
    /// Sizes per dimension; `[]` for a scalar.
    public let shape: [Int]
    /// The values as Float: exact for float32 and float16, rounded to nearest for float64 and for integers beyond
    /// 2^24 (integer tensors in state dicts are counters such as `num_batches_tracked`).
    public let floats: [Float]
    /// The exact values of an integer tensor; nil for floating-point tensors.
    public let integers: [Int64]?

    public init(dtype: TorchDType, shape: [Int], floats: [Float], integers: [Int64]? = nil) {
        precondition(floats.count == shape.reduce(1, *), "\(floats.count) values do not fill shape \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.floats = floats
        self.integers = integers
    }

    public var elementCount: Int { floats.count }
}

/// A state dict read from a checkpoint in the legacy (pre-zip, before PyTorch 1.6) `torch.save` format.
///
/// That format is a run of pickles: the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, a dict
/// of system info (endianness, type sizes), then the state dict itself, whose tensors are
/// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` calls with the storages referenced by
/// persistent id `('storage', torch.FloatStorage, key, location, element_count, view)`, then a pickled list of
/// storage keys, and for each key in that order an 8-byte little-endian element count followed by the storage's
/// raw little-endian bytes.
///
/// Only a small pickle subset is understood, and only these globals are allowed: `collections.OrderedDict`,
/// `torch._utils._rebuild_tensor_v2` (and `_rebuild_tensor`), and `torch.{Float,Double,Half,Long,Int}Storage`.
/// Nothing is ever executed: any other global is an error naming it.
public struct TorchLegacyCheckpoint: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let tensor: TorchTensor
    }

    /// The tensors in the order the state dict lists them.
    public let entries: [Entry]
    private let indexByName: [String: Int]

    /// Reads the checkpoint at `url`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw BackboneZooError(.fileAccess, "cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(data: data, fileDescription: url.lastPathComponent)
    }

    /// Reads a checkpoint from its bytes. `fileDescription` names the source in error messages.
    public init(data: Data, fileDescription: String = "checkpoint") throws {
        let bytes = [UInt8](data)
        var reader = LegacyFormatReader(bytes: bytes, fileDescription: fileDescription)
        entries = try reader.readStateDict()
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() { index[entry.name] = i }
        indexByName = index
    }

    /// The tensor called `name`, if present.
    public subscript(name: String) -> TorchTensor? {
        indexByName[name].map { entries[$0].tensor }
    }

    /// The tensor names in state-dict order.
    public var names: [String] { entries.map(\.name) }

    /// The number of values in all floating-point tensors (integer counters such as `num_batches_tracked` excluded).
    public var floatingPointValueCount: Int {
        entries.reduce(0) { $0 + ($1.tensor.dtype.isInteger ? 0 : $1.tensor.elementCount) }
    }
}

// MARK: - Pickle machine

/// Values on the unpickler's stack. Lists and dicts are classes because the pickle mutates them after memoising.
private indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// A LONG1 integer too wide for Int64, as little-endian two's-complement bytes.
    case wideInt([UInt8])
    case float(Double)
    case string(String)
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    case global(AllowedGlobal)
    case storage(StorageReference)
    case tensor(TensorReference)

    var kindDescription: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .wideInt: "int"
        case .float: "float"
        case .string: "str"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global: "global"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

private final class PickleList { var items: [PickleValue] = [] }
private final class PickleDict { var entries: [(key: PickleValue, value: PickleValue)] = [] }

private enum AllowedGlobal {
    case orderedDict
    case rebuildTensor
    case storageType(TorchDType)
}

private struct StorageReference {
    /// The key of the storage whose bytes hold the data (for a view, its root storage).
    let rootKey: String
    /// Element offset of this storage within the root storage (non-zero only for legacy storage views).
    let offsetInRoot: Int
    let dtype: TorchDType
    let elementCount: Int
}

private struct TensorReference {
    let storage: StorageReference
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

/// One pass over the bytes of a legacy checkpoint.
private struct LegacyFormatReader {
    let bytes: [UInt8]
    let fileDescription: String
    var position = 0

    init(bytes: [UInt8], fileDescription: String) {
        self.bytes = bytes
        self.fileDescription = fileDescription
    }

    static let magicNumberLittleEndian: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    static let legacyProtocolVersion: Int64 = 1001

    // MARK: File structure

    mutating func readStateDict() throws -> [TorchLegacyCheckpoint.Entry] {
        if bytes.isEmpty {
            throw BackboneZooError(.notACheckpoint, "\(fileDescription) is empty; download the weights again")
        }
        if bytes.starts(with: [0x50, 0x4b, 0x03, 0x04]) {  // "PK\3\4"
            throw BackboneZooError(.zipCheckpoint, """
                \(fileDescription) is a zip-format checkpoint (torch.save since PyTorch 1.6), which this reader does \
                not support; it reads only the legacy format. Re-save it in Python with \
                torch.save(state_dict, path, _use_new_zipfile_serialization=False), or use weights published in the \
                legacy format
                """)
        }
        guard bytes[0] == 0x80 else {
            throw BackboneZooError(.notACheckpoint, """
                \(fileDescription) is not a legacy torch checkpoint (it does not start with a pickle); \
                check that the path points at the .pth file
                """)
        }
        guard case .wideInt(let magic) = try readPickle(), magic == Self.magicNumberLittleEndian else {
            throw BackboneZooError(.notACheckpoint, """
                \(fileDescription) is a pickle but not a torch checkpoint (no torch magic number); \
                check that the path points at the .pth file
                """)
        }
        guard case .int(let version) = try readPickle(), version == Self.legacyProtocolVersion else {
            throw BackboneZooError(.malformedCheckpoint, """
                \(fileDescription) has an unknown torch serialization protocol version (expected 1001)
                """)
        }
        guard case .dict(let systemInfo) = try readPickle() else {
            throw BackboneZooError(.malformedCheckpoint, "\(fileDescription): the system-info pickle is not a dict")
        }
        for entry in systemInfo.entries {
            if case .string("little_endian") = entry.key, case .bool(false) = entry.value {
                throw BackboneZooError(.malformedCheckpoint, """
                    \(fileDescription) was saved on a big-endian machine, which is not supported; \
                    re-save it on a little-endian one
                    """)
            }
        }

        let root = try readPickle()
        let tensorDict = try stateDict(in: root)

        guard case .list(let keyList) = try readPickle() else {
            throw BackboneZooError(.malformedCheckpoint, "\(fileDescription): the storage-key pickle is not a list")
        }
        var storageTypes: [String: TorchDType] = [:]
        for (_, value) in tensorDict {
            if case .tensor(let tensor) = value { storageTypes[tensor.storage.rootKey] = tensor.storage.dtype }
        }
        var storages: [String: StorageValues] = [:]
        for keyValue in keyList.items {
            guard case .string(let key) = keyValue else {
                throw BackboneZooError(.malformedCheckpoint, "\(fileDescription): a storage key is not a string")
            }
            let elementCount = Int(try readInt64())
            guard elementCount >= 0 else {
                throw BackboneZooError(.malformedCheckpoint, "\(fileDescription): storage \(key) has a negative size")
            }
            guard let dtype = storageTypes[key] else {
                // A storage no tensor uses: skip its bytes. Its element size is unknown, so it must be empty.
                guard elementCount == 0 else {
                    throw BackboneZooError(.malformedCheckpoint,
                                           "\(fileDescription): storage \(key) is not referenced by any tensor")
                }
                continue
            }
            storages[key] = try readStorage(dtype: dtype, elementCount: elementCount, key: key)
        }

        return try tensorDict.map { name, value in
            guard case .tensor(let reference) = value else {
                throw BackboneZooError(.malformedCheckpoint, """
                    \(fileDescription): entry \(name) of the state dict is a \(value.kindDescription), not a tensor
                    """)
            }
            guard let storage = storages[reference.storage.rootKey] else {
                throw BackboneZooError(.malformedCheckpoint, """
                    \(fileDescription): tensor \(name) refers to storage \(reference.storage.rootKey), whose data is missing
                    """)
            }
            return TorchLegacyCheckpoint.Entry(name: name, tensor: try materialize(reference, from: storage, name: name))
        }
    }

    /// The (name, value) pairs of the state dict: the root dict itself, or the dict under "state_dict" or "model"
    /// when the root is a training checkpoint that wraps it.
    func stateDict(in root: PickleValue) throws -> [(String, PickleValue)] {
        guard case .dict(let dict) = root else {
            throw BackboneZooError(.malformedCheckpoint, """
                \(fileDescription) holds a \(root.kindDescription), not a state dict; save model.state_dict()
                """)
        }
        var pairs: [(String, PickleValue)] = []
        for entry in dict.entries {
            guard case .string(let key) = entry.key else {
                throw BackboneZooError(.malformedCheckpoint, "\(fileDescription): a state-dict key is not a string")
            }
            pairs.append((key, entry.value))
        }
        let holdsTensors = pairs.allSatisfy { if case .tensor = $0.1 { true } else { false } }
        if !holdsTensors {
            for wrapperKey in ["state_dict", "model"] {
                if let inner = pairs.first(where: { $0.0 == wrapperKey })?.1, case .dict = inner {
                    return try stateDict(in: inner)
                }
            }
        }
        return pairs
    }

    // MARK: Storages and tensors

    enum StorageValues {
        case floats([Float])
        case integers([Int64])
    }

    mutating func readStorage(dtype: TorchDType, elementCount: Int, key: String) throws -> StorageValues {
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, byteCount <= bytes.count - position else {
            throw truncated("in the data of storage \(key) (\(elementCount) \(dtype.rawValue) values)")
        }
        let start = position
        position += byteCount
        return bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            func load<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
                T(littleEndian: UnsafeRawPointer(base).loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
            }
            switch dtype {
            case .float32:
                return .floats((0..<elementCount).map { Float(bitPattern: load($0, UInt32.self)) })
            case .float64:
                return .floats((0..<elementCount).map { Float(Double(bitPattern: load($0, UInt64.self))) })
            case .float16:
                return .floats((0..<elementCount).map { floatFromHalf(load($0, UInt16.self)) })
            case .int64:
                return .integers((0..<elementCount).map { Int64(bitPattern: load($0, UInt64.self)) })
            case .int32:
                return .integers((0..<elementCount).map { Int64(Int32(bitPattern: load($0, UInt32.self))) })
            }
        }
    }

    /// Copies a tensor out of its storage, honouring storage offset, sizes and strides.
    func materialize(_ reference: TensorReference, from storage: StorageValues, name: String) throws -> TorchTensor {
        let shape = reference.shape, strides = reference.strides
        guard shape.count == strides.count, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw BackboneZooError(.malformedCheckpoint, "\(fileDescription): tensor \(name) has invalid size/stride")
        }
        let storageCount: Int
        switch storage {
        case .floats(let v): storageCount = v.count
        case .integers(let v): storageCount = v.count
        }
        // Sizes and strides come from the file: multiply with overflow checks before trusting them.
        var count = 1, lastOffset = reference.storage.offsetInRoot + reference.offset, overflow = false
        let base = lastOffset
        for (size, stride) in zip(shape, strides) {
            let (product, o1) = count.multipliedReportingOverflow(by: size)
            let (reach, o2) = max(size - 1, 0).multipliedReportingOverflow(by: stride)
            let (sum, o3) = lastOffset.addingReportingOverflow(reach)
            count = product; lastOffset = sum
            overflow = overflow || o1 || o2 || o3
        }
        if overflow || count > storageCount * max(1, shape.count) {
            throw BackboneZooError(.malformedCheckpoint, """
                \(fileDescription): tensor \(name) has an implausible shape \(shape) for a storage of \(storageCount) values
                """)
        }
        if count > 0 {
            guard base >= 0, lastOffset < storageCount else {
                throw BackboneZooError(.malformedCheckpoint, """
                    \(fileDescription): tensor \(name) (shape \(shape), offset \(reference.offset), strides \(strides)) \
                    reaches past the end of its storage of \(storageCount) values
                    """)
            }
        }
        // Storage offsets of all elements in row-major order, built one dimension at a time.
        var offsets = [base]
        offsets.reserveCapacity(count)
        for (size, stride) in zip(shape, strides) {
            var next: [Int] = []
            next.reserveCapacity(offsets.count * size)
            for o in offsets { for i in 0..<size { next.append(o + i * stride) } }
            offsets = next
        }
        if count == 0 { offsets = [] }
        switch storage {
        case .floats(let values):
            return TorchTensor(dtype: reference.storage.dtype, shape: shape, floats: offsets.map { values[$0] })
        case .integers(let values):
            let integers = offsets.map { values[$0] }
            return TorchTensor(dtype: reference.storage.dtype, shape: shape, floats: integers.map { Float($0) },
                               integers: integers)
        }
    }

    // MARK: Pickles

    func truncated(_ context: String) -> BackboneZooError {
        BackboneZooError(.truncated, """
            \(fileDescription) ends early (\(context), at byte \(position) of \(bytes.count)); \
            the file is incomplete: download or copy it again
            """)
    }

    mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated("inside a pickle") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readBytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else { throw truncated("inside a pickle") }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func readUInt<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws -> T {
        let slice = try readBytes(MemoryLayout<T>.size)
        var value: T = 0
        for (i, byte) in slice.enumerated() { value |= T(byte) << (8 * i) }
        return value
    }

    mutating func readInt64() throws -> Int64 {
        guard bytes.count - position >= 8 else { throw truncated("in a storage size") }
        return Int64(bitPattern: try readUInt(UInt64.self))
    }

    mutating func readLine() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0a) else { throw truncated("inside a GLOBAL name") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    func resolveGlobal(module: String, name: String) throws -> AllowedGlobal {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch", _):
            if let dtype = TorchDType(storageClassName: name) { return .storageType(dtype) }
        default: break
        }
        throw BackboneZooError(.disallowedGlobal, """
            \(fileDescription) refers to \(module).\(name), which is not allowed in a weights file (only \
            collections.OrderedDict, torch._utils._rebuild_tensor_v2 and torch.*Storage are); \
            the file is not a plain state dict: save model.state_dict() instead of a whole model or object
            """)
    }

    /// Runs one pickle from the current position to its STOP opcode and returns the value it produces.
    mutating func readPickle() throws -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]

        func malformed(_ what: String) -> BackboneZooError {
            BackboneZooError(.malformedCheckpoint, "\(fileDescription): malformed pickle at byte \(position): \(what)")
        }
        func pop() throws -> PickleValue {
            guard let value = stack.popLast() else { throw malformed("stack underflow") }
            return value
        }
        func popToMark() throws -> [PickleValue] {
            guard let mark = marks.popLast(), mark <= stack.count else { throw malformed("no MARK") }
            let items = Array(stack[mark...])
            stack.removeSubrange(mark...)
            return items
        }
        func setItems(_ items: [PickleValue], into target: PickleValue) throws {
            guard case .dict(let dict) = target, items.count % 2 == 0 else { throw malformed("SETITEM(S) on a non-dict") }
            for i in stride(from: 0, to: items.count, by: 2) {
                let key = items[i]
                if case .string(let k) = key,
                   let existing = dict.entries.firstIndex(where: { if case .string(k) = $0.key { true } else { false } }) {
                    dict.entries[existing].value = items[i + 1]
                } else {
                    dict.entries.append((key, items[i + 1]))
                }
            }
        }
        func intValue(_ value: PickleValue, _ what: String) throws -> Int {
            guard case .int(let v) = value, let i = Int(exactly: v) else { throw malformed("\(what) is not an int") }
            return i
        }
        func intTuple(_ value: PickleValue, _ what: String) throws -> [Int] {
            guard case .tuple(let items) = value else { throw malformed("\(what) is not a tuple") }
            return try items.map { try intValue($0, what) }
        }

        while true {
            let opcodePosition = position
            let opcode = try readByte()
            switch opcode {
            case 0x80:  // PROTO
                let version = try readByte()
                guard version <= 5 else { throw malformed("pickle protocol \(version)") }
            case 0x95:  // FRAME (protocol 4): an 8-byte frame length, framing only
                _ = try readBytes(8)
            case 0x2e:  // STOP
                return try pop()
            case 0x28:  // MARK
                marks.append(stack.count)
            case 0x7d:  // EMPTY_DICT
                stack.append(.dict(PickleDict()))
            case 0x5d:  // EMPTY_LIST
                stack.append(.list(PickleList()))
            case 0x29:  // EMPTY_TUPLE
                stack.append(.tuple([]))
            case 0x4e:  // NONE
                stack.append(.none)
            case 0x88:  // NEWTRUE
                stack.append(.bool(true))
            case 0x89:  // NEWFALSE
                stack.append(.bool(false))
            case 0x4b:  // BININT1
                stack.append(.int(Int64(try readByte())))
            case 0x4d:  // BININT2
                stack.append(.int(Int64(try readUInt(UInt16.self))))
            case 0x4a:  // BININT: signed 4-byte
                stack.append(.int(Int64(Int32(bitPattern: try readUInt(UInt32.self)))))
            case 0x8a:  // LONG1: n bytes of little-endian two's complement
                let n = Int(try readByte())
                let digits = Array(try readBytes(n))
                if n == 0 {
                    stack.append(.int(0))
                } else if n <= 8 {
                    var value: UInt64 = 0
                    for (i, byte) in digits.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
                    if digits[n - 1] & 0x80 != 0 && n < 8 { value |= ~0 << (8 * UInt64(n)) }  // sign-extend
                    stack.append(.int(Int64(bitPattern: value)))
                } else {
                    stack.append(.wideInt(digits))
                }
            case 0x47:  // BINFLOAT: 8-byte big-endian double
                let raw = try readBytes(8)
                stack.append(.float(Double(bitPattern: raw.reduce(0) { $0 << 8 | UInt64($1) })))
            case 0x58:  // BINUNICODE: 4-byte length, UTF-8
                let length = Int(try readUInt(UInt32.self))
                stack.append(.string(String(decoding: try readBytes(length), as: UTF8.self)))
            case 0x8c:  // SHORT_BINUNICODE: 1-byte length
                let length = Int(try readByte())
                stack.append(.string(String(decoding: try readBytes(length), as: UTF8.self)))
            case 0x71:  // BINPUT
                let index = Int(try readByte())
                guard let top = stack.last else { throw malformed("BINPUT on an empty stack") }
                memo[index] = top
            case 0x72:  // LONG_BINPUT
                let index = Int(try readUInt(UInt32.self))
                guard let top = stack.last else { throw malformed("LONG_BINPUT on an empty stack") }
                memo[index] = top
            case 0x94:  // MEMOIZE
                guard let top = stack.last else { throw malformed("MEMOIZE on an empty stack") }
                memo[memo.count] = top
            case 0x68:  // BINGET
                let index = Int(try readByte())
                guard let value = memo[index] else { throw malformed("BINGET of unknown memo \(index)") }
                stack.append(value)
            case 0x6a:  // LONG_BINGET
                let index = Int(try readUInt(UInt32.self))
                guard let value = memo[index] else { throw malformed("LONG_BINGET of unknown memo \(index)") }
                stack.append(value)
            case 0x74:  // TUPLE
                stack.append(.tuple(try popToMark()))
            case 0x85:  // TUPLE1
                let a = try pop()
                stack.append(.tuple([a]))
            case 0x86:  // TUPLE2
                let b = try pop(), a = try pop()
                stack.append(.tuple([a, b]))
            case 0x87:  // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                stack.append(.tuple([a, b, c]))
            case 0x63:  // GLOBAL: "module\nname\n"
                let module = try readLine()
                let name = try readLine()
                stack.append(.global(try resolveGlobal(module: module, name: name)))
            case 0x93:  // STACK_GLOBAL (protocol 4)
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw malformed("STACK_GLOBAL without module and name strings")
                }
                stack.append(.global(try resolveGlobal(module: module, name: name)))
            case 0x52:  // REDUCE: callable(*args)
                let arguments = try pop()
                let callable = try pop()
                guard case .tuple(let args) = arguments, case .global(let function) = callable else {
                    throw malformed("REDUCE of a non-global")
                }
                switch function {
                case .orderedDict:
                    guard args.isEmpty else { throw malformed("OrderedDict called with arguments") }
                    stack.append(.dict(PickleDict()))
                case .rebuildTensor:
                    guard args.count >= 4, case .storage(let storage) = args[0] else {
                        throw malformed("_rebuild_tensor_v2 without (storage, offset, size, stride)")
                    }
                    stack.append(.tensor(TensorReference(storage: storage,
                                                         offset: try intValue(args[1], "storage offset"),
                                                         shape: try intTuple(args[2], "tensor size"),
                                                         strides: try intTuple(args[3], "tensor stride"))))
                case .storageType:
                    throw malformed("a storage class called directly")
                }
            case 0x62:  // BUILD: obj.__setstate__(state); only OrderedDict's attributes (state_dict._metadata) occur
                _ = try pop()
                guard case .dict = stack.last else { throw malformed("BUILD on something other than a dict") }
            case 0x73:  // SETITEM
                let value = try pop(), key = try pop()
                guard let target = stack.last else { throw malformed("SETITEM on an empty stack") }
                try setItems([key, value], into: target)
            case 0x75:  // SETITEMS
                let items = try popToMark()
                guard let target = stack.last else { throw malformed("SETITEMS on an empty stack") }
                try setItems(items, into: target)
            case 0x61:  // APPEND
                let value = try pop()
                guard case .list(let list)? = stack.last else { throw malformed("APPEND on a non-list") }
                list.items.append(value)
            case 0x65:  // APPENDS
                let items = try popToMark()
                guard case .list(let list)? = stack.last else { throw malformed("APPENDS on a non-list") }
                list.items.append(contentsOf: items)
            case 0x51:  // BINPERSID: ('storage', storage_type, key, location, element_count, view_metadata)
                let pid = try pop()
                guard case .tuple(let fields) = pid, fields.count == 6, case .string("storage") = fields[0],
                      case .global(.storageType(let dtype)) = fields[1], case .string(let key) = fields[2] else {
                    throw malformed("persistent id is not a torch storage reference")
                }
                let elementCount = try intValue(fields[4], "storage size")
                var reference = StorageReference(rootKey: key, offsetInRoot: 0, dtype: dtype, elementCount: elementCount)
                // Old checkpoints could store storage views: (view_key, offset, view_size) into root storage `key`.
                if case .tuple(let view) = fields[5], view.count == 3 {
                    reference = StorageReference(rootKey: key, offsetInRoot: try intValue(view[1], "view offset"),
                                                 dtype: dtype, elementCount: try intValue(view[2], "view size"))
                }
                stack.append(.storage(reference))
            default:
                throw BackboneZooError(.unsupportedOpcode, """
                    \(fileDescription): pickle opcode 0x\(String(opcode, radix: 16)) at byte \(opcodePosition) is \
                    not supported by this reader, which handles the subset torch.save used for legacy state dicts; \
                    re-save the weights with torch.save(model.state_dict(), path, \
                    _use_new_zipfile_serialization=False, pickle_protocol=2)
                    """)
            }
        }
    }
}

/// IEEE 754 binary16 to binary32, exact (written out because Float16 is unavailable on Intel macOS).
private func floatFromHalf(_ bits: UInt16) -> Float {
    let sign = UInt32(bits >> 15) << 31
    let exponent = UInt32(bits >> 10) & 0x1f
    let mantissa = UInt32(bits) & 0x3ff
    if exponent == 0 {
        // Zero or subnormal: mantissa * 2^-24, exactly representable.
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }  // inf / NaN
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}
