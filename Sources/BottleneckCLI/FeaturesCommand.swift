import ArgumentParser
import BottleneckEngine
import Foundation

/// Computes bottleneck vectors of raw input tensors.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Compute bottleneck vectors of images (JPEG, PNG) or raw float32 tensors (.f32).")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Bottleneck tensor name (default: the input of the final classifier).")
    var tensor: String?

    @Option(name: .long, help: "Write all vectors, concatenated, as raw float32 to this file.")
    var output: String?

    @Argument(help: "Input files.")
    var inputs: [String]

    func run() throws {
        let model = try modelOptions.load(outputs: tensor.map { [$0] })
        let session = InferenceSession(model: model, threads: modelOptions.threadCount)
        let name = model.outputNames[0]
        var all: [Float] = []
        for path in inputs {
            let input = try InputFile(path: path, model: model)
            let result = try session.run(input.values, shape: input.shape, layout: input.layout)[name]!
            for image in 0..<input.shape[0] {
                let vector = result.item(image)
                let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let head = vector.prefix(4).map { String(format: "%.4f", $0) }.joined(separator: " ")
                print("\(path)[\(image)]: \(name) \(vector.count) values, L2 norm \(String(format: "%.4f", norm)),"
                    + " first: \(head)")
            }
            all += result.values
        }
        if let output {
            let data = all.withUnsafeBufferPointer { Data(buffer: $0) }
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
            print("wrote \(all.count) floats to \(output)")
        }
    }
}
