// Hand-written convenience layer over the generated ONNX messages in onnx.pb.swift (which must not be edited:
// scripts/generate-onnx-proto.sh overwrites it). Everything here only fills in those messages.

import Foundation
import SwiftProtobuf

// MARK: - Element types and dimensions

/// The ONNX tensor element types this project writes (values of `TensorProto.DataType`).
public enum ONNXElementType: Int32, Sendable {
    case float = 1
    case int32 = 6
    case int64 = 7
    case double = 11
}

/// One dimension of a graph input or output: a fixed size, or a named symbolic size such as the batch `N`.
public enum ONNXDimension: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case fixed(Int)
    case symbolic(String)

    public init(integerLiteral value: Int) { self = .fixed(value) }
    public init(stringLiteral value: String) { self = .symbolic(value) }
}

/// The value of a node attribute, in the kinds the model builder supports.
public enum ONNXAttributeValue: Sendable, Hashable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case floats([Float])
    case string(String)
}

// MARK: - Tensors

extension Onnx_TensorProto {
    /// A float32 tensor stored as little-endian `raw_data`.
    /// - Precondition: `values.count` equals the product of `shape` (1 for a scalar, shape `[]`).
    public static func float32(name: String, shape: [Int], values: [Float]) -> Onnx_TensorProto {
        precondition(values.count == shape.reduce(1, *),
                     "tensor \(name): \(values.count) values do not fill shape \(shape)")
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = ONNXElementType.float.rawValue
        tensor.rawData = littleEndianBytes(of: values.map(\.bitPattern))
        return tensor
    }

    /// An int64 tensor stored as little-endian `raw_data`.
    /// - Precondition: `values.count` equals the product of `shape` (1 for a scalar, shape `[]`).
    public static func int64(name: String, shape: [Int], values: [Int64]) -> Onnx_TensorProto {
        precondition(values.count == shape.reduce(1, *),
                     "tensor \(name): \(values.count) values do not fill shape \(shape)")
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = ONNXElementType.int64.rawValue
        tensor.rawData = littleEndianBytes(of: values.map { UInt64(bitPattern: $0) })
        return tensor
    }

    /// The shape as `Int`s.
    public var shape: [Int] { dims.map { Int($0) } }

    /// The values of a float32 tensor, whether stored in `raw_data` or in `float_data`; nil for other types.
    public var float32Values: [Float]? {
        guard dataType == ONNXElementType.float.rawValue else { return nil }
        if hasRawData { return Self.decodeLittleEndian(rawData, as: UInt32.self).map(Float.init(bitPattern:)) }
        return floatData
    }

    /// The values of an int64 tensor, whether stored in `raw_data` or in `int64_data`; nil for other types.
    public var int64Values: [Int64]? {
        guard dataType == ONNXElementType.int64.rawValue else { return nil }
        if hasRawData { return Self.decodeLittleEndian(rawData, as: UInt64.self).map(Int64.init(bitPattern:)) }
        return int64Data
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(of words: [T]) -> Data {
        let littleEndianWords = words.map(\.littleEndian)  // a no-op on little-endian machines
        return littleEndianWords.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    private static func decodeLittleEndian<T: FixedWidthInteger>(_ data: Data, as: T.Type) -> [T] {
        let count = data.count / MemoryLayout<T>.size
        return data.withUnsafeBytes { raw in
            (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
    }
}

// MARK: - Attributes and nodes

extension Onnx_AttributeProto {
    /// An attribute with its `type` field set to match the value.
    public init(name: String, value: ONNXAttributeValue) {
        self.init()
        self.name = name
        switch value {
        case .int(let v): type = .int; i = Int64(v)
        case .ints(let v): type = .ints; ints = v.map { Int64($0) }
        case .float(let v): type = .float; f = v
        case .floats(let v): type = .floats; floats = v
        case .string(let v): type = .string; s = Data(v.utf8)
        }
    }

    /// The value, if the attribute is of one of the kinds in `ONNXAttributeValue`.
    public var value: ONNXAttributeValue? {
        switch type {
        case .int: return .int(Int(i))
        case .ints: return .ints(ints.map { Int($0) })
        case .float: return .float(f)
        case .floats: return .floats(floats)
        case .string: return .string(String(decoding: s, as: UTF8.self))
        default: return nil
        }
    }
}

extension Onnx_NodeProto {
    /// A node of the default ONNX domain. Attributes are written in the order given.
    public init(opType: String, inputs: [String], outputs: [String], name: String? = nil,
                attributes: KeyValuePairs<String, ONNXAttributeValue> = [:]) {
        self.init()
        self.opType = opType
        self.input = inputs
        self.output = outputs
        if let name { self.name = name }
        self.attribute = attributes.map { Onnx_AttributeProto(name: $0.key, value: $0.value) }
    }

    /// The attribute called `name`, if the node has it.
    public func attribute(named name: String) -> Onnx_AttributeProto? {
        attribute.first { $0.name == name }
    }
}

// MARK: - Value infos, opsets, metadata

extension Onnx_ValueInfoProto {
    /// A tensor-typed graph input or output, e.g. `.tensor(name: "input", elementType: .float, dims: ["N", 3, 224, 224])`.
    public static func tensor(name: String, elementType: ONNXElementType, dims: [ONNXDimension]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { dimension in
            var d = Onnx_TensorShapeProto.Dimension()
            switch dimension {
            case .fixed(let size): d.dimValue = Int64(size)
            case .symbolic(let symbol): d.dimParam = symbol
            }
            return d
        }
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = elementType.rawValue
        tensorType.shape = shape
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }

    /// The dims of a tensor-typed value info (symbolic dims as `.symbolic`), or nil for other types.
    public var tensorDims: [ONNXDimension]? {
        guard case .tensorType(let tensorType)? = type.value else { return nil }
        return tensorType.shape.dim.map { d in
            if case .dimParam(let symbol)? = d.value { return .symbolic(symbol) }
            return .fixed(Int(d.dimValue))
        }
    }
}

extension Onnx_OperatorSetIdProto {
    /// An opset import; the empty domain is the default ONNX operator set.
    public init(domain: String = "", version: Int) {
        self.init()
        self.domain = domain
        self.version = Int64(version)
    }
}

extension Onnx_StringStringEntryProto {
    public init(key: String, value: String) {
        self.init()
        self.key = key
        self.value = value
    }
}

// MARK: - Graph builder

/// Accumulates nodes, initializers, inputs and outputs, then produces an `Onnx_ModelProto`.
///
///     var graph = ONNXGraphBuilder(name: "tiny")
///     graph.addInput(.tensor(name: "x", elementType: .float, dims: ["N", 4]))
///     let w = graph.addInitializer(.float32(name: "w", shape: [2, 4], values: weights))
///     graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: ["x", w], outputs: ["y"], attributes: ["transB": .int(1)]))
///     graph.addOutput(.tensor(name: "y", elementType: .float, dims: ["N", 2]))
///     let model = graph.makeModel(opsetVersion: 13, metadata: ["purpose": "demo"])
public struct ONNXGraphBuilder: Sendable {
    public var graph = Onnx_GraphProto()

    public init(name: String) { graph.name = name }

    /// Adds a constant tensor and returns its name, for use as a node input.
    @discardableResult
    public mutating func addInitializer(_ tensor: Onnx_TensorProto) -> String {
        graph.initializer.append(tensor)
        return tensor.name
    }

    /// Adds a node (nodes must be added in topological order) and returns its first output's name.
    @discardableResult
    public mutating func addNode(_ node: Onnx_NodeProto) -> String {
        graph.node.append(node)
        return node.output.first ?? ""
    }

    public mutating func addInput(_ input: Onnx_ValueInfoProto) { graph.input.append(input) }
    public mutating func addOutput(_ output: Onnx_ValueInfoProto) { graph.output.append(output) }

    /// Wraps the graph in a model.
    /// - Parameters:
    ///   - opsetVersion: version of the default ("") operator set the nodes follow.
    ///   - irVersion: ONNX IR version; 8 is what onnx 1.10–1.12 wrote for opset 13 and every runtime reads it.
    ///   - metadata: `metadata_props`, written in the order given.
    public func makeModel(opsetVersion: Int, irVersion: Int = 8, producerName: String = "bottleneck",
                          producerVersion: String = "", metadata: KeyValuePairs<String, String> = [:]) -> Onnx_ModelProto {
        Onnx_ModelProto(graph: graph, opsetImports: [Onnx_OperatorSetIdProto(version: opsetVersion)],
                        irVersion: irVersion, producerName: producerName, producerVersion: producerVersion,
                        metadata: metadata.map { ($0.key, $0.value) })
    }
}

// MARK: - Models

extension Onnx_ModelProto {
    public init(graph: Onnx_GraphProto, opsetImports: [Onnx_OperatorSetIdProto], irVersion: Int = 8,
                producerName: String = "bottleneck", producerVersion: String = "",
                metadata: [(key: String, value: String)] = []) {
        self.init()
        self.irVersion = Int64(irVersion)
        self.opsetImport = opsetImports
        self.producerName = producerName
        if !producerVersion.isEmpty { self.producerVersion = producerVersion }
        self.graph = graph
        self.metadataProps = metadata.map { Onnx_StringStringEntryProto(key: $0.key, value: $0.value) }
    }

    /// The value of a `metadata_props` entry, if present.
    public func metadataValue(forKey key: String) -> String? {
        metadataProps.first { $0.key == key }?.value
    }

    /// Sets a `metadata_props` entry, replacing an existing entry with the same key.
    public mutating func setMetadataValue(_ value: String, forKey key: String) {
        if let index = metadataProps.firstIndex(where: { $0.key == key }) {
            metadataProps[index].value = value
        } else {
            metadataProps.append(Onnx_StringStringEntryProto(key: key, value: value))
        }
    }

    /// The model in protobuf wire format (an `.onnx` file's content).
    public func serializedONNX() throws -> Data {
        try serializedBytes()
    }

    /// Reads a model from an `.onnx` file.
    public init(contentsOf url: URL) throws {
        try self.init(serializedBytes: try Data(contentsOf: url))
    }

    /// Writes the model to `url` atomically: the bytes go to a temporary file in the same folder, which is then
    /// renamed over `url`, so readers never see a half-written model. Creates missing parent folders.
    /// - Returns: the bytes written.
    @discardableResult
    public func write(to url: URL) throws -> Data {
        let data = try serializedONNX()
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Data.write(.atomic) writes to a temporary file next to the target and renames it into place.
        try data.write(to: url, options: .atomic)
        return data
    }
}
