import ArgumentParser
import BottleneckEngine
import Foundation

/// The model file and how to run it, shared by every command that runs a backbone.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "The ONNX model file.")
    var model: String = "models/efficientnet-lite0.onnx"

    @Option(name: .long, help: "Worker threads (default: all cores). OpenBLAS itself stays single-threaded.")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp(
        "fp32, or int8: the 1x1 convolutions in int8 (AVX-512 VNNI CPUs only; about 2x faster, features about 4%"
            + " from fp32's)."))
    var precision: Precision = .float32

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
    }

    var threadCount: Int { threads ?? InferenceSession.defaultThreadCount }

    var modelURL: URL { URL(fileURLWithPath: model) }

    /// Loads the model computing `outputs` (nil: its bottleneck).
    func load(outputs: [String]? = nil) throws -> InferenceModel {
        try InferenceModel(contentsOf: modelURL, outputs: outputs, precision: precision)
    }
}

extension Precision: ExpressibleByArgument {}
