import ArgumentParser
import BottleneckEngine
import Foundation

/// Classifies raw inputs with the backbone's own classifier (ImageNet for the zoo backbones).
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Top-k classes of images (JPEG, PNG) or raw .f32 tensors with the model's own classifier.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Classifier output tensor (default: the model's last declared output).")
    var tensor: String?

    @Option(name: .long, help: "How many classes to show.")
    var top: Int = 5

    @Argument(help: "Input files.")
    var inputs: [String]

    func run() throws {
        let declared = try ONNXImporter.importModel(at: modelOptions.modelURL)
        guard let outputName = tensor ?? declared.outputs.last else {
            throw CommandError("the model declares no outputs.")
        }
        let model = try InferenceModel(graph: declared, outputs: [outputName], precision: modelOptions.precision)
        let labels = Self.labels(model.metadata)
        // A combined model's (`bottleneck export`) scores output already ends in Softmax; any other tensor, e.g.
        // its head_logits or a backbone's classifier, gives logits.
        let givesProbabilities = model.metadata[CombinedModelContract.formatKey] == CombinedModelContract.format
            && outputName == CombinedModelContract.scoresOutput
        let session = InferenceSession(model: model, threads: modelOptions.threadCount)
        for path in inputs {
            let input = try InputFile(path: path, model: model)
            let scores = try session.run(input.values, shape: input.shape, layout: input.layout)[outputName]!
            for image in 0..<input.shape[0] {
                let values = Array(scores.item(image))
                let probabilities = givesProbabilities ? values : Self.softmax(values)
                let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
                print(input.shape[0] == 1 ? path : "\(path)[\(image)]")
                for index in ranked {
                    let label = index < labels.count ? labels[index] : "class \(index)"
                    print(String(format: "  %6.2f%%  %4d  ", probabilities[index] * 100, index) + label)
                }
            }
        }
    }

    /// Class names from the `bottleneck.labels` metadata (a JSON array), if present.
    static func labels(_ metadata: [String: String]) -> [String] {
        guard let json = metadata[CombinedModelContract.labelsKey]?.data(using: .utf8),
            let labels = try? JSONDecoder().decode([String].self, from: json) else { return [] }
        return labels
    }

    static func softmax(_ logits: [Float]) -> [Float] {
        let maximum = logits.max() ?? 0
        let exponentials = logits.map { Foundation.exp($0 - maximum) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { $0 / sum }
    }
}
