import BottleneckImages
import Foundation
import Glibc
import ONNXSchema

/// Paths, prerequisites and synthetic inputs of the bootstrap tests.
enum BootstrapFixtures {
    /// The repository root: this file is two folders below it (symlinks resolved, for scratch packages).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Runtime Interface Emulator, where `make rie` puts it.
    static let emulator = repositoryRoot.appendingPathComponent("build/tools/aws-lambda-rie-x86_64")
    /// The project's Python, which runs the image server.
    static let python = repositoryRoot.appendingPathComponent(".venv/bin/python")

    /// Under CI (`make test` installs every prerequisite) nothing is skipped: a missing piece must fail loudly.
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static var hasPrerequisites: Bool {
        (FileManager.default.isExecutableFile(atPath: emulator.path)
            && FileManager.default.isExecutableFile(atPath: python.path)) || isCI
    }
    static let noPrerequisites = "needs build/tools/aws-lambda-rie-x86_64 (make rie) and .venv/bin/python (make venv)"

    /// The `bootstrap` binary next to the running test bundle (same build configuration).
    static var bootstrap: URL {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("bootstrap")
    }

    /// The classes of the synthetic model, in output order.
    static let labels = ["red", "green", "blue"]

    /// A combined model as `bottleneck export` writes it, in miniature: NCHW 3x32x32 input -> GlobalAveragePool ->
    /// Flatten -> Gemm (10 x identity: the channel means become the logits) -> Softmax `scores`, with the labels
    /// and preprocessing metadata. A saturated red, green or blue image is its class with probability > 0.99.
    static func writeModel(to url: URL) throws {
        var graph = ONNXGraphBuilder(name: "tiny-combined")
        graph.addInput(.tensor(name: "input", elementType: .float, dims: ["N", 3, 32, 32]))
        let weights = graph.addInitializer(.float32(name: "head.weight", shape: [3, 3],
                                                    values: [10, 0, 0, 0, 10, 0, 0, 0, 10]))
        let bias = graph.addInitializer(.float32(name: "head.bias", shape: [3], values: [0, 0, 0]))
        graph.addNode(Onnx_NodeProto(opType: "GlobalAveragePool", inputs: ["input"], outputs: ["pooled"]))
        graph.addNode(Onnx_NodeProto(opType: "Flatten", inputs: ["pooled"], outputs: ["features"],
                                     attributes: ["axis": .int(1)]))
        graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: ["features", weights, bias], outputs: ["logits"],
                                     attributes: ["transB": .int(1)]))
        graph.addNode(Onnx_NodeProto(opType: "Softmax", inputs: ["logits"], outputs: ["scores"],
                                     attributes: ["axis": .int(1)]))
        graph.addOutput(.tensor(name: "scores", elementType: .float, dims: ["N", 3]))
        let preprocessing = #"{"channel_order":"RGB","crop":"center","input_size":32,"#
            + #""interpolation":"bilinear-antialias","layout":"NCHW","mean":[127,127,127],"#
            + #""resize_shorter_side":32,"std":[128,128,128]}"#
        let model = graph.makeModel(opsetVersion: 13, metadata: [
            "bottleneck.labels": #"["red","green","blue"]"#, "bottleneck.preprocessing": preprocessing,
            "bottleneck.bottleneck_tensor": "features", "bottleneck.format": "combined/1"])
        try model.write(to: url)
    }

    /// A 100x100 PNG of one colour with a little deterministic noise. (Debug builds of the resampler trip an
    /// assertion on images below about 100 pixels when downscaling to 32, so the images stay this large.)
    static func png(red: UInt8, green: UInt8, blue: UInt8) throws -> Data {
        var pixels = [UInt8](repeating: 0, count: 100 * 100 * 3)
        for offset in 0..<(100 * 100) {
            pixels[offset * 3] = red &+ UInt8(offset % 7)
            pixels[offset * 3 + 1] = green &+ UInt8(offset % 5)
            pixels[offset * 3 + 2] = blue &+ UInt8(offset % 3)
        }
        return Data(try PNGEncoder.encode(RGBImage(width: 100, height: 100, pixels: pixels)))
    }

    /// A fresh temporary folder.
    static func makeTemporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lambda-bootstrap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw HarnessError("binding a socket to 127.0.0.1 failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A failure of the test harness itself (a helper process that would not start).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
