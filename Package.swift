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
        .library(name: "BackboneZoo", targets: ["BackboneZoo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // MARK: - C interop
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: - Libraries
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
        /// Pretrained backbones: reading their published weights and writing them as ONNX.
        .target(
            name: "BackboneZoo",
            dependencies: ["ONNXSchema"]
        ),

        // MARK: - Executables
        .executableTarget(
            name: "BottleneckCLI",
            dependencies: [
                "BottleneckEngine", "BackboneZoo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests
        .testTarget(name: "BottleneckEngineTests", dependencies: ["BottleneckEngine", "ONNXSchema"],
                    swiftSettings: numericSettings),
        .testTarget(name: "BackboneZooTests", dependencies: ["BackboneZoo", "BottleneckEngine", "ONNXSchema"]),
        .testTarget(name: "BottleneckCLITests", dependencies: ["BottleneckCLI"]),
    ],
    swiftLanguageModes: [.v6]
)
