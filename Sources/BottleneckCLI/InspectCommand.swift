import ArgumentParser
import BottleneckEngine
import Foundation

/// Shows what the engine makes of an ONNX file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a model's input, outputs, metadata and the optimized graph the engine runs.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Bottleneck tensor name (default: the input of the final classifier).")
    var tensor: String?

    @Flag(name: .long, help: "List every node of the optimized graph.")
    var nodes = false

    func run() throws {
        let imported = try ONNXImporter.importModel(at: modelOptions.modelURL)
        let model = try InferenceModel(graph: imported, outputs: tensor.map { [$0] },
                                       precision: modelOptions.precision)
        print("model:      \(modelOptions.model)")
        print("input:      \(model.inputName) \(InferenceSession.describe(model.inputDimensions))")
        print("outputs:    \(imported.outputs.joined(separator: ", "))")
        print("bottleneck: \(model.outputNames.joined(separator: ", "))")
        print("nodes:      \(imported.nodes.count) imported, \(model.graph.nodes.count) after optimization")
        var counts: [String: Int] = [:]
        for node in model.graph.nodes { counts[node.operation.name, default: 0] += 1 }
        for (kind, count) in counts.sorted(by: { $0.value > $1.value }) {
            print(String(format: "  %4d  ", count) + kind)
        }
        for key in model.metadata.keys.sorted() {
            let value = model.metadata[key]!
            print("metadata \(key): " + (value.count > 100 ? value.prefix(97) + "..." : value))
        }
        if nodes {
            for node in model.graph.nodes {
                print("\(node.operation.name) \(node.name): \(node.inputs.joined(separator: ", ")) ->"
                    + " \(node.outputs.joined(separator: ", "))")
            }
        }
    }
}
