// swift-tools-version: 6.0
import PackageDescription

/// Flags for the numeric targets. `haswell` is the portable AVX2+FMA baseline that every x86-64 Lambda CPU
/// runs; without a target CPU, `SIMD.addProduct` lowers to a scalar `fmaf` call per lane.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell", "-enforce-exclusivity=unchecked"]),
]

let package = Package(
    name: "Bottleneck",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bottleneck", targets: ["BottleneckCLI"]),
        .library(name: "BottleneckEngine", targets: ["BottleneckEngine"]),
        .library(name: "BottleneckImages", targets: ["BottleneckImages"]),
        .library(name: "BottleneckDatasets", targets: ["BottleneckDatasets"]),
        .library(name: "BottleneckCache", targets: ["BottleneckCache"]),
        .library(name: "BackboneZoo", targets: ["BackboneZoo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // MARK: - C interop
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        /// libpng reports errors by longjmp, which Swift cannot catch: this shim wraps decode/encode in setjmp.
        .target(name: "CPNGShim", linkerSettings: [.linkedLibrary("png16")]),
        /// curl_easy_setopt is variadic, which Swift cannot call: this shim exposes typed setters.
        .target(name: "CCurlShim", linkerSettings: [.linkedLibrary("curl")]),

        // MARK: - Libraries
        /// SHA-256 content fingerprints (model files, image bytes, cache keys).
        .target(name: "ContentHashing"),
        /// ONNX protobuf messages, generated from onnx.proto by scripts/generate-onnx-proto.sh.
        .target(
            name: "ONNXSchema",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        /// ONNX import, graph optimisation and the NHWC CPU inference engine.
        .target(
            name: "BottleneckEngine",
            dependencies: ["COpenBLAS", "ONNXSchema"],
            swiftSettings: numericSettings
        ),
        /// Image decoding (JPEG, PNG) and preprocessing into the engine's NHWC input.
        .target(
            name: "BottleneckImages",
            dependencies: ["CTurboJPEG", "CPNGShim"],
            swiftSettings: numericSettings
        ),
        /// Labelled image folders and manifests, stable splits, the embedded Fashion-MNIST data.
        .target(
            name: "BottleneckDatasets",
            dependencies: ["BottleneckImages", "ContentHashing"]
        ),
        /// HTTP through libcurl, and S3 with curl's AWS SigV4 signing.
        .target(name: "BottleneckNetwork", dependencies: ["CCurlShim"]),
        /// The content-keyed feature cache: append-only vector shards on local disk or in S3.
        .target(name: "BottleneckCache", dependencies: ["BottleneckNetwork", "ContentHashing"]),
        /// Dataset -> decode -> preprocess -> backbone -> cache, with every core busy.
        .target(
            name: "BottleneckExtraction",
            dependencies: ["BottleneckEngine", "BottleneckImages", "BottleneckDatasets", "BottleneckCache"]
        ),
        /// Heads trained on cached vectors (softmax regression, one hidden layer), optimizers, schedules.
        .target(name: "BottleneckTraining", dependencies: ["BottleneckEngine"]),
        /// Metrics on held-out data and the report (JSON, self-contained HTML with inline SVG).
        .target(name: "BottleneckEvaluation"),
        /// Pretrained backbones: reading their published weights and writing them as ONNX.
        .target(
            name: "BackboneZoo",
            dependencies: ["ONNXSchema", "ContentHashing"]
        ),

        // MARK: - Executables
        .executableTarget(
            name: "BottleneckCLI",
            dependencies: [
                "BottleneckEngine", "BottleneckImages", "BottleneckDatasets", "BottleneckCache",
                "BottleneckExtraction", "BottleneckTraining", "BottleneckEvaluation", "BackboneZoo", "ContentHashing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: - Tests
        .testTarget(name: "ContentHashingTests", dependencies: ["ContentHashing"]),
        .testTarget(name: "BottleneckEngineTests", dependencies: ["BottleneckEngine", "ONNXSchema"],
                    swiftSettings: numericSettings),
        .testTarget(name: "BottleneckImagesTests", dependencies: ["BottleneckImages", "BottleneckEngine"]),
        .testTarget(name: "BottleneckDatasetsTests", dependencies: ["BottleneckDatasets", "BottleneckImages"]),
        .testTarget(name: "BottleneckNetworkTests", dependencies: ["BottleneckNetwork"]),
        .testTarget(name: "BottleneckCacheTests", dependencies: ["BottleneckCache", "BottleneckNetwork"]),
        .testTarget(name: "BottleneckExtractionTests",
                    dependencies: ["BottleneckExtraction", "BottleneckCache", "BottleneckDatasets", "BottleneckImages"]),
        .testTarget(name: "BottleneckTrainingTests", dependencies: ["BottleneckTraining"]),
        .testTarget(name: "BottleneckEvaluationTests", dependencies: ["BottleneckEvaluation"]),
        .testTarget(name: "BackboneZooTests",
                    dependencies: ["BackboneZoo", "BottleneckEngine", "ONNXSchema", "ContentHashing"]),
        .testTarget(name: "BottleneckCLITests", dependencies: ["BottleneckCLI", "BottleneckImages"]),
    ],
    swiftLanguageModes: [.v6]
)
