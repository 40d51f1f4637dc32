import BottleneckImages
import Foundation
import ONNXSchema
import Testing

/// `bottleneck predict` on a local file and on a URL served from 127.0.0.1, with a tiny combined model:
/// input [N, 3, 8, 8] -> GlobalAveragePool -> Flatten -> Gemm -> Softmax `scores`, classes red, green, blue.
@Suite struct PredictCommandTests {
    static let python = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python")
    /// Under CI (`make test` installs the venv) a missing python fails the URL test instead of disabling it.
    static var hasPython: Bool {
        FileManager.default.isExecutableFile(atPath: python.path) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// A folder with `model.onnx` and solid 64x64 `red.png`, `green.jpg`, `blue.png`.
    static func makeFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-predict-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var graph = ONNXGraphBuilder(name: "tiny-combined")
        graph.addInput(.tensor(name: "image", elementType: .float, dims: ["N", 3, 8, 8]))
        let w = graph.addInitializer(.float32(name: "w", shape: [3, 3], values: [4, -2, -2, -2, 4, -2, -2, -2, 4]))
        graph.addNode(Onnx_NodeProto(opType: "GlobalAveragePool", inputs: ["image"], outputs: ["pooled"]))
        graph.addNode(Onnx_NodeProto(opType: "Flatten", inputs: ["pooled"], outputs: ["features"]))
        graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: ["features", w], outputs: ["logits"],
                                     attributes: ["transB": .int(1)]))
        graph.addNode(Onnx_NodeProto(opType: "Softmax", inputs: ["logits"], outputs: ["scores"],
                                     attributes: ["axis": .int(1)]))
        graph.addOutput(.tensor(name: "scores", elementType: .float, dims: ["N", 3]))
        let preprocessing = try PreprocessingSpec(inputSize: 8, mean: [0, 0, 0], resizeShorterSide: 8,
                                                  std: [255, 255, 255])
        try graph.makeModel(opsetVersion: 13, metadata: [
            "bottleneck.labels": #"["red","green","blue"]"#,
            PreprocessingSpec.metadataKey: preprocessing.jsonString(),
            "bottleneck.format": "combined/1",
        ]).write(to: folder.appendingPathComponent("model.onnx"))

        func solid(_ colour: [UInt8]) -> RGBImage {
            RGBImage(width: 64, height: 64, pixels: Array((0..<(64 * 64)).map { _ in colour }.joined()))
        }
        try Data(PNGEncoder.encode(solid([230, 20, 20]))).write(to: folder.appendingPathComponent("red.png"))
        try Data(JPEGEncoder.encode(solid([20, 230, 20]))).write(to: folder.appendingPathComponent("green.jpg"))
        try Data(PNGEncoder.encode(solid([20, 20, 230]))).write(to: folder.appendingPathComponent("blue.png"))
        return folder
    }

    @Test func predictsLocalFilesAsATable() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (model, red, blue) = (folder.appendingPathComponent("model.onnx").path,
                                  folder.appendingPathComponent("red.png").path,
                                  folder.appendingPathComponent("blue.png").path)
        let result = try CommandLineTests.run(["predict", "--model", model, "--top", "2", "--threads", "1", red, blue])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 6, "\(result.output)")
        #expect(lines.first.map(String.init) == red)
        #expect(lines.count > 1 && lines[1].hasSuffix("0  red"), "\(result.output)")
        #expect(lines.count > 4 && lines[4].hasSuffix("2  blue"), "\(result.output)")
    }

    @Test func failuresExitNonZeroWithTheReason() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.onnx").path
        let missing = folder.appendingPathComponent("none.png").path
        try CommandLineTests.expectFailure(["predict", "--model", model, missing], mentioning: "cannot read")
        try CommandLineTests.expectFailure(["predict", "--model", model, model], mentioning: "not a JPEG or PNG")
        try CommandLineTests.expectFailure(["predict", "--model", folder.appendingPathComponent("red.png").path,
                                            model], mentioning: "cannot serve the model")
        try CommandLineTests.expectFailure(["predict", "--model", model, "ftp://127.0.0.1/red.png"],
                                           mentioning: "only http and https")
        try CommandLineTests.expectFailure(["predict", "--model", model, "http://169.254.169.254/latest/meta-data/"],
                                           mentioning: "refused 169.254.169.254")
    }

    @Test(.enabled(if: hasPython, "needs .venv/bin/python (make venv) for the loopback HTTP server"))
    func predictsURLsFromALoopbackServerWhenAllowed() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Serves the folder; exits when its standard input closes (closing it is how the test stops it).
        let server = Process()
        server.executableURL = Self.python
        server.arguments = ["-c", """
            import functools, http.server, sys, threading
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            print(server.server_address[1], flush=True)
            sys.stdin.read()
            """, folder.path]
        let (input, output) = (Pipe(), Pipe())
        server.standardInput = input
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            try? input.fileHandleForWriting.close()
            server.waitUntilExit()
        }
        var banner = ""
        while !banner.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(Int(banner.trimmingCharacters(in: .whitespacesAndNewlines)),
                                "the server printed \(banner.debugDescription), not its port")
        let model = folder.appendingPathComponent("model.onnx").path
        let url = "http://127.0.0.1:\(port)/green.jpg"

        try CommandLineTests.expectFailure(["predict", "--model", model, url], mentioning: "refused 127.0.0.1")
        let result = try CommandLineTests.run(["predict", "--model", model, "--allow-loopback", "--json", "--top", "1",
                                               url])
        #expect(result.status == 0, "\(result.error)")
        struct Output: Decodable {
            struct Prediction: Decodable {
                struct Score: Decodable { let label: String; let index: Int; let score: Float }
                let input: String
                let top: [Score]
                let fetchSeconds: Double?
            }
            let predictions: [Prediction]
        }
        let decoded = try JSONDecoder().decode(Output.self, from: Data(result.output.utf8))
        #expect(decoded.predictions.count == 1)
        #expect(decoded.predictions.first?.input == url)
        #expect(decoded.predictions.first?.top.map(\.label) == ["green"])
        #expect(decoded.predictions.first?.fetchSeconds != nil)
    }
}
