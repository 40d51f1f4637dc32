import Foundation

/// An ONNX model imported, pruned to the tensors you want, and optimized for the engine.
///
/// Loading does all the work that does not depend on the input size (BatchNorm folding, fusion, weight
/// packing); an `InferenceSession` then plans buffers per input shape.
public final class InferenceModel: Sendable {
    /// The optimized graph: its outputs are the requested tensors.
    public let graph: Graph
    /// The model's metadata_props (labels, preprocessing, provenance when written by this tool).
    public let metadata: [String: String]

    /// Loads an ONNX file.
    /// - Parameters:
    ///   - url: the `.onnx` file.
    ///   - outputs: tensor names to compute; nil computes the bottleneck (`bottleneck.bottleneck_tensor` in
    ///     the metadata, else the input of the final Gemm/MatMul, i.e. the pooled features).
    ///   - precision: `.int8` quantizes the weights of the 1x1 convolutions once, here.
    /// - Throws: `EngineError` naming what is wrong with the file or the request, or that this CPU cannot run
    ///   `precision`.
    public convenience init(contentsOf url: URL, outputs: [String]? = nil, precision: Precision = .float32) throws {
        try self.init(graph: try ONNXImporter.importModel(at: url), outputs: outputs, precision: precision)
    }

    /// Prunes and optimizes an imported graph; see `init(contentsOf:outputs:precision:)`.
    public init(graph imported: Graph, outputs: [String]? = nil, precision: Precision = .float32) throws {
        guard precision.isSupported else {
            throw EngineError(.unsupported, "\(precision.rawValue) needs AVX-512 with VNNI (Intel Cascade Lake or"
                + " later, AMD Zen 4 or later), which this CPU lacks; run at fp32 instead.")
        }
        let wanted: [String]
        if let outputs {
            wanted = outputs
        } else if let declared = imported.metadata["bottleneck.bottleneck_tensor"] {
            wanted = [declared]
        } else if let found = imported.defaultBottleneck() {
            wanted = [found]
        } else {
            throw EngineError(.unknownTensor, "cannot find the bottleneck of this model: no Gemm/MatMul classifier"
                + " leads to its output. Name the tensor explicitly (--tensor NAME); `bottleneck inspect` lists them.")
        }
        let optimized = try GraphOptimizer.optimize(try imported.pruned(toOutputs: wanted))
        graph = precision == .int8 ? GraphOptimizer.quantizingPointwiseConvolutions(optimized) : optimized
        metadata = imported.metadata
    }

    public var inputName: String { graph.input.name }
    public var outputNames: [String] { graph.outputs }

    /// The declared input dimensions (nil where symbolic), in the model's own layout.
    public var inputDimensions: [Int?] { graph.input.dimensions }
}
