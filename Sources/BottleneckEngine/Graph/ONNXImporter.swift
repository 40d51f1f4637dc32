import Foundation
import ONNXSchema
import SwiftProtobuf

/// Turns an ONNX `ModelProto` into a `Graph`: parses attributes per opset, reads initializers and `Constant`
/// nodes, and refuses anything the engine cannot run with an error naming the operator and node.
public enum ONNXImporter {
    /// Reads and imports an ONNX file.
    /// - Throws: `EngineError` when the file is missing, is not ONNX, or uses something unsupported.
    public static func importModel(at url: URL) throws -> Graph {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw EngineError(.fileNotReadable, "cannot read model '\(url.path)': \(error.localizedDescription)."
                + " Check the path, or run `bottleneck backbone install efficientnet-lite0` to create one.")
        }
        return try importModel(serialized: bytes, source: url.path)
    }

    /// Imports a serialized ONNX model; `source` names it in messages.
    public static func importModel(serialized bytes: Data, source: String) throws -> Graph {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw EngineError(.invalidModel, "'\(source)' is not a valid ONNX model (protobuf decoding failed:"
                + " \(error)). Is the file truncated, or not an .onnx file?")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw EngineError(.invalidModel, "'\(source)' holds no ONNX graph (\(bytes.count) bytes decoded to an"
                + " empty model). Is it really an .onnx file?")
        }
        let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) }
        var importer = GraphImport(opset: opset ?? 13, source: source)
        var graph = try importer.run(model.graph)
        graph.metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        return graph
    }
}

/// The state of one import: the opset and the constants found so far.
private struct GraphImport {
    let opset: Int
    let source: String
    var constants: [String: ConstantTensor] = [:]

    init(opset: Int, source: String) {
        self.opset = opset
        self.source = source
    }

    mutating func run(_ proto: Onnx_GraphProto) throws -> Graph {
        for initializer in proto.initializer {
            constants[initializer.name] = try tensor(initializer, what: "initializer '\(initializer.name)'")
        }
        let inputs = proto.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw EngineError(.unsupported, "'\(source)' has \(inputs.count) graph inputs"
                + " (\(inputs.map(\.name).joined(separator: ", "))); the engine runs models with exactly one image"
                + " input.")
        }
        let tensorType = input.type.tensorType
        guard tensorType.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw EngineError(.unsupported, "input '\(input.name)' of '\(source)' has element type"
                + " \(tensorType.elemType); the engine needs a float32 input (ONNX type 1).")
        }
        let dimensions: [Int?] = tensorType.shape.dim.map { dimension in
            if case .dimValue(let value)? = dimension.value, value > 0 { return Int(value) }
            return nil
        }
        var nodes: [Node] = []
        for (index, proto) in proto.node.enumerated() {
            let name = proto.name.isEmpty ? "\(proto.opType)_\(index)" : proto.name
            if let node = try node(proto, name: name) { nodes.append(node) }
        }
        return Graph(
            input: GraphInput(name: input.name, dimensions: dimensions),
            outputs: proto.output.map(\.name), nodes: nodes, constants: constants)
    }

    /// Imports one node; `Constant` nodes become constants and return nil.
    mutating func node(_ proto: Onnx_NodeProto, name: String) throws -> Node? {
        guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
            throw EngineError(.unsupported, "operator '\(proto.opType)' of domain '\(proto.domain)' in node"
                + " '\(name)' is not supported; the engine implements the standard ONNX domain only.")
        }
        let attributes = Attributes(proto: proto, nodeName: name)
        let operation: Operation
        switch proto.opType {
        case "Constant":
            guard let output = proto.output.first else { return nil }
            constants[output] = try constantValue(attributes, nodeName: name)
            return nil
        case "Conv":
            let window = try attributes.window(requireKernel: false)
            if let dilations = attributes.ints("dilations"), dilations.contains(where: { $0 != 1 }) {
                throw EngineError(.unsupported, "Conv node '\(name)' uses dilations \(dilations); only dilation 1"
                    + " is supported.")
            }
            operation = .convolution(ConvolutionAttributes(window: window, groups: attributes.int("group") ?? 1))
        case "BatchNormalization":
            operation = .batchNormalization(epsilon: attributes.float("epsilon") ?? 1e-5)
        case "Relu":
            operation = .clamp(.relu)
        case "Clip":
            if opset < 11 {
                operation = .clamp(Clamp(lower: attributes.float("min") ?? -.greatestFiniteMagnitude,
                                         upper: attributes.float("max") ?? .greatestFiniteMagnitude))
            } else {
                operation = .clipWithBoundInputs
            }
        case "Sigmoid": operation = .sigmoid
        case "Add": operation = .binary(.add)
        case "Sub": operation = .binary(.sub)
        case "Mul": operation = .binary(.mul)
        case "Div": operation = .binary(.div)
        case "GlobalAveragePool": operation = .globalAveragePool
        case "MaxPool", "AveragePool":
            if let dilations = attributes.ints("dilations"), dilations.contains(where: { $0 != 1 }) {
                throw EngineError(.unsupported, "\(proto.opType) node '\(name)' uses dilations \(dilations);"
                    + " only dilation 1 is supported.")
            }
            if proto.output.count > 1 {
                throw EngineError(.unsupported, "MaxPool node '\(name)' asks for the Indices output, which is not"
                    + " supported.")
            }
            operation = .pool(PoolAttributes(
                kind: proto.opType == "MaxPool" ? .max : .average,
                window: try attributes.window(requireKernel: true),
                ceilMode: (attributes.int("ceil_mode") ?? 0) != 0,
                countIncludePad: (attributes.int("count_include_pad") ?? 0) != 0))
        case "Gemm":
            operation = .gemm(GemmAttributes(
                alpha: attributes.float("alpha") ?? 1, beta: attributes.float("beta") ?? 1,
                transposeA: (attributes.int("transA") ?? 0) != 0, transposeB: (attributes.int("transB") ?? 0) != 0))
        case "MatMul": operation = .matMul
        case "Flatten": operation = .flatten(axis: attributes.int("axis") ?? 1)
        case "Reshape": operation = .reshape(allowZero: (attributes.int("allowzero") ?? 0) != 0)
        case "Concat":
            guard let axis = attributes.int("axis") else {
                throw EngineError(.invalidModel, "Concat node '\(name)' has no axis attribute.")
            }
            operation = .concat(axis: axis)
        case "Pad":
            let mode = attributes.string("mode") ?? "constant"
            guard mode == "constant" else {
                throw EngineError(.unsupported, "Pad node '\(name)' uses mode '\(mode)'; only constant padding is"
                    + " supported.")
            }
            if opset < 11 {
                operation = .pad(pads: attributes.ints("pads") ?? [], value: attributes.float("value") ?? 0)
            } else {
                operation = .pad(pads: nil, value: 0)
            }
        case "Transpose": operation = .transpose(permutation: attributes.ints("perm"))
        case "Softmax":
            operation = .softmax(axis: attributes.int("axis") ?? (opset < 13 ? 1 : -1), coercesTo2D: opset < 13)
        case "Dropout", "Identity":
            operation = .identity
        case "Shape":
            if attributes.int("start") != nil || attributes.int("end") != nil {
                throw EngineError(.unsupported, "Shape node '\(name)' uses start/end, which is not supported.")
            }
            operation = .shape
        case "Gather": operation = .gather(axis: attributes.int("axis") ?? 0)
        case "Unsqueeze": operation = .unsqueeze(axes: opset < 13 ? attributes.ints("axes") : nil)
        case "Squeeze": operation = .squeeze(axes: opset < 13 ? attributes.ints("axes") : nil)
        case "Cast":
            let to = attributes.int("to") ?? 1
            operation = .cast(toInteger: [6, 7].contains(to))
        case "Slice":
            guard opset >= 10 else {
                throw EngineError(.unsupported, "Slice node '\(name)' uses the opset \(opset) attribute form;"
                    + " re-export with opset 10 or newer.")
            }
            operation = .slice
        case "ConstantOfShape":
            operation = .constantOfShape(value: try attributes.tensor("value").map {
                try tensor($0, what: "value of node '\(name)'").floats.first ?? 0
            } ?? 0)
        default:
            throw EngineError(.unsupported, "operator '\(proto.opType)' (node '\(name)') is not supported by the"
                + " engine. Supported: Conv, BatchNormalization, Relu, Clip, Sigmoid, Add, Sub, Mul, Div,"
                + " GlobalAveragePool, AveragePool, MaxPool, Gemm, MatMul, Flatten, Reshape, Concat, Pad,"
                + " Transpose, Softmax, Dropout, Identity, Constant and shape arithmetic (Shape, Gather,"
                + " Unsqueeze, Squeeze, Cast, Slice, ConstantOfShape).")
        }
        // Dropout's optional mask output is never read by inference graphs; keep the data output only.
        let outputs = proto.opType == "Dropout" ? Array(proto.output.prefix(1)) : proto.output
        return Node(name: name, operation: operation, inputs: proto.input, outputs: outputs)
    }

    func constantValue(_ attributes: Attributes, nodeName: String) throws -> ConstantTensor {
        if let value = try attributes.tensor("value") {
            return try tensor(value, what: "value of Constant node '\(nodeName)'")
        }
        if let value = attributes.float("value_float") { return ConstantTensor(shape: [], floats: [value]) }
        if let values = attributes.floats("value_floats") {
            return ConstantTensor(shape: [values.count], floats: values)
        }
        if let value = attributes.int("value_int") { return ConstantTensor(shape: [], integers: [Int64(value)]) }
        if let values = attributes.ints("value_ints") {
            return ConstantTensor(shape: [values.count], integers: values.map(Int64.init))
        }
        throw EngineError(.unsupported, "Constant node '\(nodeName)' has no value attribute the engine reads"
            + " (value, value_float(s), value_int(s)).")
    }

    /// Decodes an ONNX tensor: float32/float64 become floats, int32/int64 integers.
    func tensor(_ proto: Onnx_TensorProto, what: String) throws -> ConstantTensor {
        if proto.dataLocation == .external {
            throw EngineError(.unsupported, "\(what) in '\(source)' stores its data in an external file, which is"
                + " not supported; save the model with its weights inside (onnx.save(..., save_as_external_data="
                + "False)).")
        }
        let shape = proto.dims.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw EngineError(.invalidModel, "\(what) in '\(source)' has negative dimensions \(shape).")
        }
        let count = shape.reduce(1, *)
        let raw = proto.hasRawData ? proto.rawData : nil
        func checkCount(_ actual: Int) throws {
            guard actual == count else {
                throw EngineError(.invalidModel, "\(what) in '\(source)' has \(actual) values for shape \(shape)"
                    + " (\(count) expected); the file is damaged.")
            }
        }
        func decode<T>(_ type: T.Type) throws -> [T] {
            guard let raw else { return [] }
            try checkCount(raw.count / MemoryLayout<T>.size)
            return raw.withUnsafeBytes { bytes in
                (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
            }
        }
        switch Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) {
        case .float:
            let values = raw != nil ? try decode(Float.self) : proto.floatData
            try checkCount(values.count)
            return ConstantTensor(shape: shape, floats: values)
        case .double:
            let values = raw != nil ? try decode(Double.self) : proto.doubleData
            try checkCount(values.count)
            return ConstantTensor(shape: shape, floats: values.map { Float($0) })
        case .int64:
            let values = raw != nil ? try decode(Int64.self) : proto.int64Data
            try checkCount(values.count)
            return ConstantTensor(shape: shape, integers: values)
        case .int32:
            let values = raw != nil ? try decode(Int32.self) : proto.int32Data
            try checkCount(values.count)
            return ConstantTensor(shape: shape, integers: values.map(Int64.init))
        default:
            throw EngineError(.unsupported, "\(what) in '\(source)' has ONNX data type \(proto.dataType); the engine"
                + " reads float32, float64, int32 and int64 tensors.")
        }
    }
}

/// Typed access to a node's attributes.
private struct Attributes {
    let byName: [String: Onnx_AttributeProto]
    let nodeName: String

    init(proto: Onnx_NodeProto, nodeName: String) {
        byName = Dictionary(proto.attribute.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        self.nodeName = nodeName
    }

    func int(_ name: String) -> Int? { byName[name].map { Int($0.i) } }
    func ints(_ name: String) -> [Int]? { byName[name].map { $0.ints.map { Int($0) } } }
    func float(_ name: String) -> Float? { byName[name].map(\.f) }
    func floats(_ name: String) -> [Float]? { byName[name].map(\.floats) }
    func string(_ name: String) -> String? { byName[name].map { String(decoding: $0.s, as: UTF8.self) } }
    func tensor(_ name: String) throws -> Onnx_TensorProto? { byName[name].map(\.t) }

    /// Kernel, strides, pads and auto_pad of a 2-D window.
    func window(requireKernel: Bool) throws -> WindowAttributes {
        let kernel = ints("kernel_shape")
        if requireKernel, kernel == nil {
            throw EngineError(.invalidModel, "node '\(nodeName)' has no kernel_shape attribute.")
        }
        if let kernel, kernel.count != 2 {
            throw EngineError(.unsupported, "node '\(nodeName)' has a \(kernel.count)-D window; only 2-D images"
                + " are supported.")
        }
        var window = WindowAttributes(kernelHeight: kernel?[0] ?? 0, kernelWidth: kernel?[1] ?? 0)
        if let strides = ints("strides") {
            guard strides.count == 2 else {
                throw EngineError(.unsupported, "node '\(nodeName)' has strides \(strides); 2 values expected.")
            }
            (window.strideHeight, window.strideWidth) = (strides[0], strides[1])
        }
        if let pads = ints("pads") {
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else {
                throw EngineError(.unsupported, "node '\(nodeName)' has pads \(pads); 4 non-negative values"
                    + " expected.")
            }
            window.pads = pads
        }
        switch string("auto_pad") ?? "NOTSET" {
        case "NOTSET", "": window.autoPad = .explicit
        case "SAME_UPPER": window.autoPad = .sameUpper
        case "SAME_LOWER": window.autoPad = .sameLower
        case "VALID": window.autoPad = .valid
        case let other:
            throw EngineError(.invalidModel, "node '\(nodeName)' has an unknown auto_pad '\(other)'.")
        }
        return window
    }
}
