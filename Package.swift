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
        .executable(name: "bootstrap", targets: ["LambdaBootstrap"]),
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
        /// `__builtin_prefetch`, which Swift cannot spell: a header-only module the engine inlines.
        .systemLibrary(name: "CCacheHints"),
        /// SHA-256 blocks on the x86 SHA extensions, which Swift cannot spell: header only, runtime-checked.
        .systemLibrary(name: "CSHA256Hardware"),
        /// int8 1x1 convolutions on AVX-512 VNNI, which Swift cannot spell: per-function target attributes,
        /// runtime-checked, so the target needs no flags and the binary still runs on AVX2-only CPUs.
        .target(name: "CInt8Kernels"),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        /// libpng reports errors by longjmp, which Swift cannot catch: this shim wraps decode/encode in setjmp.
        .target(name: "CPNGShim", linkerSettings: [.linkedLibrary("png16")]),
        /// curl_easy_setopt is variadic, which Swift cannot call: this shim exposes typed setters.
        .target(name: "CCurlShim", linkerSettings: [.linkedLibrary("curl")]),
        /// Symbol-version shims so the static-stdlib `bootstrap` built on Debian 12 loads on Lambda's glibc 2.34
        /// (provided.al2023); linked into `bootstrap` only. libstdc++ is named because the shim forwards to it.
        .target(name: "CGlibcCompat", linkerSettings: [.linkedLibrary("stdc++")]),

        // MARK: - Libraries
        /// SHA-256 content fingerprints (model files, image bytes, cache keys); the numeric flags give its
        /// portable path BMI2 rotates (262 -> 285 MB/s).
        .target(name: "ContentHashing", dependencies: ["CSHA256Hardware"], swiftSettings: numericSettings),
        /// ONNX protobuf messages, generated from onnx.proto by scripts/generate-onnx-proto.sh.
        .target(
            name: "ONNXSchema",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        /// ONNX import, graph optimisation and the NHWC CPU inference engine.
        .target(
            name: "BottleneckEngine",
            dependencies: ["COpenBLAS", "CCacheHints", "CInt8Kernels", "ONNXSchema"],
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
        /// Dataset (or S3 batch) -> decode -> preprocess -> backbone -> cache, with every core busy.
        .target(
            name: "BottleneckExtraction",
            dependencies: ["BottleneckEngine", "BottleneckImages", "BottleneckDatasets", "BottleneckCache",
                           "BottleneckNetwork"]
        ),
        /// Heads trained on cached vectors (softmax regression, one hidden layer), optimizers, schedules.
        .target(name: "BottleneckTraining", dependencies: ["BottleneckEngine"]),
        /// Metrics on held-out data and the report (JSON, self-contained HTML with inline SVG).
        .target(name: "BottleneckEvaluation"),
        /// Pretrained backbones: reading their published weights and writing them as ONNX.
        .target(
            name: "BackboneZoo",
            dependencies: ["ONNXSchema", "ContentHashing", "BottleneckImages"]
        ),
        /// The combined model: a backbone and a trained head in one ONNX file with a `scores` output and its provenance.
        .target(name: "BottleneckExport",
                dependencies: ["ONNXSchema", "BottleneckEngine", "BottleneckTraining", "BottleneckImages"]),
        /// Serving a combined model: image URLs fetched safely (SSRF policy, limits), bytes classified to top-k.
        .target(name: "BottleneckServing", dependencies: ["BottleneckEngine", "BottleneckImages", "BottleneckNetwork"]),
        /// The Lambda Runtime API client, the invocation loop, API Gateway / Function URL events, JSON log lines.
        .target(name: "LambdaRuntime", dependencies: ["BottleneckNetwork"]),

        // MARK: - Executables
        .executableTarget(
            name: "BottleneckCLI",
            dependencies: [
                "BottleneckEngine", "BottleneckImages", "BottleneckDatasets", "BottleneckCache",
                "BottleneckExtraction", "BottleneckTraining", "BottleneckEvaluation", "BackboneZoo", "ContentHashing",
                "BottleneckExport", "BottleneckServing", "ONNXSchema",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        /// The Lambda `bootstrap`: classify image URLs or bytes with a combined model, or extract S3 item batches.
        .executableTarget(
            name: "LambdaBootstrap",
            dependencies: ["LambdaRuntime", "BottleneckServing", "BottleneckExtraction", "BottleneckCache",
                           "BottleneckNetwork", "CGlibcCompat"]
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
                    dependencies: ["BackboneZoo", "BottleneckEngine", "ONNXSchema", "ContentHashing", "BottleneckImages"]),
        .testTarget(name: "BottleneckExportTests",
                    dependencies: ["BottleneckExport", "BottleneckEngine", "BottleneckTraining", "BottleneckImages",
                                   "ONNXSchema"]),
        /// cfn-lint on the CloudFormation / SAM templates in configs/lambda.
        .testTarget(name: "DeploymentTests"),
        .testTarget(name: "LambdaRuntimeTests", dependencies: ["LambdaRuntime", "BottleneckNetwork"]),
        .testTarget(name: "LambdaBootstrapTests",
                    dependencies: ["LambdaBootstrap", "ONNXSchema", "BottleneckImages", "BottleneckNetwork"]),
        .testTarget(name: "BottleneckServingTests",
                    dependencies: ["BottleneckServing", "BottleneckNetwork", "BottleneckImages", "ONNXSchema"]),
        .testTarget(name: "BottleneckCLITests",
                    dependencies: ["BottleneckCLI", "BottleneckEngine", "BottleneckImages", "ONNXSchema",
                                   "BottleneckNetwork"]),
    ],
    swiftLanguageModes: [.v6]
)
