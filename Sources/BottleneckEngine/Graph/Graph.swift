/// One node of a `Graph`: an operation reading and writing named tensors.
public struct Node: Sendable {
    public var name: String
    public var operation: Operation
    /// Tensor names; an empty string is an omitted optional input, as in ONNX.
    public var inputs: [String]
    public var outputs: [String]

    public init(name: String, operation: Operation, inputs: [String], outputs: [String]) {
        self.name = name
        self.operation = operation
        self.inputs = inputs
        self.outputs = outputs
    }

    /// `Conv 'stem' (inputs: x, w)` - how messages refer to a node.
    public var label: String { "\(operation.name) node '\(name)'" }
}

/// The declared graph input: a float tensor whose dimensions may be symbolic (nil).
public struct GraphInput: Sendable, Equatable {
    public var name: String
    /// ONNX dimensions; nil for a symbolic or missing dimension.
    public var dimensions: [Int?]
}

/// A model as the engine sees it: topologically sorted nodes over named tensors, ONNX semantics and layouts.
public struct Graph: Sendable {
    public var input: GraphInput
    public var outputs: [String]
    public var nodes: [Node]
    /// Weights and other tensors known at import.
    public var constants: [String: ConstantTensor]
    /// The model's `metadata_props`.
    public var metadata: [String: String]

    public init(
        input: GraphInput, outputs: [String], nodes: [Node], constants: [String: ConstantTensor],
        metadata: [String: String] = [:]
    ) {
        self.input = input
        self.outputs = outputs
        self.nodes = nodes
        self.constants = constants
        self.metadata = metadata
    }

    /// How many nodes read each tensor (graph outputs count as a reader).
    func consumerCounts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for node in nodes {
            for input in node.inputs where !input.isEmpty { counts[input, default: 0] += 1 }
        }
        for output in outputs { counts[output, default: 0] += 1 }
        return counts
    }

    /// The index of the node that writes `tensor`, if any.
    func producerIndex(of tensor: String) -> Int? {
        nodes.firstIndex { $0.outputs.contains(tensor) }
    }

    /// Every tensor name the graph can produce or holds, for "did you mean" style messages.
    public var tensorNames: [String] {
        [input.name] + nodes.flatMap(\.outputs)
    }

    /// Keeps only the nodes needed to compute `outputs`, which become the graph's outputs.
    public func pruned(toOutputs wanted: [String]) throws -> Graph {
        let known = Set(tensorNames).union(constants.keys)
        for name in wanted where !known.contains(name) {
            throw EngineError(.unknownTensor, "no tensor named '\(name)' in the model; its outputs are "
                + "\(outputs.joined(separator: ", ")). Use `bottleneck inspect` to list tensor names.")
        }
        var needed = Set(wanted)
        var kept: [Node] = []
        for node in nodes.reversed() where node.outputs.contains(where: needed.contains) {
            kept.append(node)
            needed.formUnion(node.inputs.filter { !$0.isEmpty })
        }
        var result = self
        result.nodes = kept.reversed()
        result.outputs = wanted
        result.constants = constants.filter { needed.contains($0.key) }
        return result
    }

    /// The default bottleneck: the data input of the final classifier, i.e. of the last Gemm/MatMul (in
    /// execution order) that any graph output depends on - the pooled features the ImageNet head reads.
    public func defaultBottleneck() -> String? {
        var needed = Set(outputs)
        for node in nodes.reversed() where node.outputs.contains(where: needed.contains) {
            switch node.operation {
            case .gemm, .matMul, .preparedGemm:
                return node.inputs[0]
            default:
                needed.formUnion(node.inputs.filter { !$0.isEmpty })
            }
        }
        return nil
    }
}
