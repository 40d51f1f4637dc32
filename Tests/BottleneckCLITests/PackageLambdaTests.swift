import BottleneckImages
import BottleneckNetwork
import Foundation
import Glibc
import ONNXSchema
import Testing

/// Paths and prerequisites of the packaging test.
enum LambdaPackaging {
    /// The repository (symlinks resolved), where `make rie` puts the emulator.
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The Swift package these tests belong to (symlinks kept), whose bootstrap is packaged.
    static let package = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let emulator = repository.appendingPathComponent("build/tools/aws-lambda-rie-x86_64")

    /// Under CI (`make test` installs every prerequisite) nothing is skipped: a missing piece must fail loudly.
    static var hasPrerequisites: Bool {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        let toolsFound = ["zip", "unzip", "objdump", "strip", "ldd"].allSatisfy { tool in
            path.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
        return (toolsFound && FileManager.default.isExecutableFile(atPath: emulator.path))
            || ProcessInfo.processInfo.environment["CI"] == "true"
    }
}

/// `bottleneck package-lambda` end to end: it builds this package's `bootstrap` (in .build/lambda, since `swift test`
/// holds .build while the tests run) and zips it with its libraries and a small combined model; the zip is unpacked
/// into a fresh folder and run there as Lambda runs it, under the AWS Lambda Runtime Interface Emulator
/// (LAMBDA_TASK_ROOT and LD_LIBRARY_PATH as on provided.al2023), and classifies an image sent as a Function URL
/// request with a base64 body.
@Suite(.serialized, .enabled(if: LambdaPackaging.hasPrerequisites,
                             "needs build/tools/aws-lambda-rie-x86_64 (make rie), zip and unzip (make deps)"))
struct PackageLambdaTests {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Libraries provided.al2023 has and the package must never carry.
    static let systemLibraries = ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                                  "libresolv.so.2", "libstdc++.so.6", "libgcc_s.so.1"]

    @Test func packagesABootstrapThatServesUnderTheEmulator() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("package-lambda-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("tiny.onnx")
        try Self.writeModel(to: model)
        let zip = folder.appendingPathComponent("out/lambda.zip")

        let result = try CommandLineTests.run([
            "package-lambda", "--model", model.path, "--output", zip.path, "--project", LambdaPackaging.package.path,
        ])
        try #require(result.status == 0, "package-lambda failed: \(result.error)")
        #expect(result.output.contains("\(zip.path): "), "\(result.output)")
        #expect(!result.output.contains("not a combined model"), "\(result.output)")

        // Lambda's limits: 50 MiB zipped for a direct upload, 262,144,000 bytes unzipped.
        let zipBytes = try Self.size(of: zip)
        #expect(zipBytes > 0 && zipBytes <= 50 << 20, "zip of \(zipBytes) bytes")

        let root = folder.appendingPathComponent("task")
        _ = try Self.run("unzip", ["-q", zip.path, "-d", root.path])
        let files = try Self.regularFiles(under: root)
        #expect(files.reduce(0) { $0 + $1.bytes } <= 262_144_000)
        let names = Set(files.map(\.path))
        #expect(names.contains("bootstrap") && names.contains("model.onnx"), "\(names.sorted())")
        #expect(FileManager.default.isExecutableFile(atPath: root.appendingPathComponent("bootstrap").path))
        #expect(try Data(contentsOf: root.appendingPathComponent("model.onnx")) == Data(contentsOf: model))
        for library in ["libturbojpeg.so.0", "libpng16.so.16", "libcurl.so.4"] {
            #expect(names.contains("lib/\(library)"), "lib/\(library) missing from \(names.sorted())")
        }
        // OpenBLAS is linked into the bootstrap (BLAS only): its shared library and Fortran runtime stay out.
        for library in ["libopenblas.so.0", "libgfortran.so.5"] {
            #expect(!names.contains("lib/\(library)"), "lib/\(library) should not be in the package")
        }
        for library in Self.systemLibraries {
            #expect(!names.contains("lib/\(library)"), "lib/\(library) must come from the runtime image")
        }

        // Independently of package-lambda's own check: no file needs a newer glibc than AL2023's 2.34, nor a
        // newer libstdc++ than GCC 11's (GLIBCXX_3.4.29).
        for file in files where file.path != "model.onnx" {
            let headers = try Self.run("objdump", ["-p", root.appendingPathComponent(file.path).path])
            for match in headers.matches(of: /GLIBC_(\d+)\.(\d+)/) {
                let version = (Int(match.1)!, Int(match.2)!)
                #expect(version <= (2, 34), "\(file.path) needs \(match.0)")
            }
            for match in headers.matches(of: /GLIBCXX_3\.4\.(\d+)/) {
                #expect(Int(match.1)! <= 29, "\(file.path) needs \(match.0)")
            }
        }

        // With Lambda's library path, every library the bootstrap needs outside glibc/libstdc++ comes from lib/.
        let libraryPath = "/lib64:/usr/lib64:\(root.path):\(root.path)/lib:/opt/lib"
        let resolved = try Self.run("ldd", [root.appendingPathComponent("bootstrap").path],
                                    environment: ["LD_LIBRARY_PATH": libraryPath])
        #expect(!resolved.contains("not found"), "\(resolved)")
        for line in resolved.split(separator: "\n") where line.contains("=>") {
            let soname = String(line.split(whereSeparator: \.isWhitespace)[0])
            if Self.systemLibraries.contains(soname) { continue }
            #expect(line.contains("\(root.path)/lib/"), "\(soname) is not loaded from the package: \(line)")
        }

        let response = try Self.invokeUnderEmulator(taskRoot: root, libraryPath: libraryPath,
                                                    event: try Self.functionURLEvent(png: Self.redPNG()))
        #expect(response["statusCode"] as? Int == 200, "\(response)")
        let body = try #require((response["body"] as? String).map { Data($0.utf8) })
        let answer = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let results = try #require(answer["results"] as? [[String: Any]], "\(answer)")
        let top = try #require(results.first?["top"] as? [[String: Any]], "\(answer)")
        #expect(top.first?["label"] as? String == "red", "\(answer)")

        // A package over the direct-upload limit is refused and leaves the previous zip as it was.
        let previous = try Data(contentsOf: zip)
        let large = folder.appendingPathComponent("large.onnx")
        try Self.writeModel(to: large, noiseFloats: 16 << 20)
        let refused = try CommandLineTests.run([
            "package-lambda", "--model", large.path, "--output", zip.path, "--project", LambdaPackaging.package.path,
        ])
        #expect(refused.status != 0 && refused.error.contains("not written (left as it was)"), "\(refused.error)")
        #expect(try Data(contentsOf: zip) == previous, "the previous zip was changed")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: zip.deletingLastPathComponent().path)
        #expect(leftovers == ["lambda.zip"], "\(leftovers)")
    }

    @Test func refusesAModelItCannotRead() throws {
        let result = try CommandLineTests.run(["package-lambda", "--model", "/nonexistent/model.onnx"])
        #expect(result.status != 0 && !result.crashed)
        #expect(result.error.contains("cannot read model '/nonexistent/model.onnx'"), "\(result.error)")
    }

    // MARK: - Fixtures

    /// A combined model as `bottleneck export` writes it, in miniature: NCHW 3x32x32 input -> GlobalAveragePool ->
    /// Flatten -> Gemm (10 x identity: the channel means become the logits) -> Softmax `scores`, with the labels
    /// and preprocessing metadata. A saturated red image is "red" with probability above 0.99. `noiseFloats`
    /// random values in an unused initializer make the file large and incompressible.
    static func writeModel(to url: URL, noiseFloats: Int = 0) throws {
        var graph = ONNXGraphBuilder(name: "tiny-combined")
        graph.addInput(.tensor(name: "input", elementType: .float, dims: ["N", 3, 32, 32]))
        let weights = graph.addInitializer(.float32(name: "head.weight", shape: [3, 3],
                                                    values: [10, 0, 0, 0, 10, 0, 0, 0, 10]))
        let bias = graph.addInitializer(.float32(name: "head.bias", shape: [3], values: [0, 0, 0]))
        if noiseFloats > 0 {
            var generator = SystemRandomNumberGenerator()
            let noise = (0..<noiseFloats).map { _ in Float(bitPattern: (generator.next() as UInt32) & 0x3FFF_FFFF) }
            _ = graph.addInitializer(.float32(name: "noise", shape: [noiseFloats], values: noise))
        }
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

    /// A 100x100 saturated red PNG.
    static func redPNG() throws -> Data {
        var pixels = [UInt8](repeating: 0, count: 100 * 100 * 3)
        for offset in 0..<(100 * 100) { pixels[offset * 3] = 230 }
        return Data(try PNGEncoder.encode(RGBImage(width: 100, height: 100, pixels: pixels)))
    }

    /// A Function URL request (payload 2.0) POSTing the image bytes, base64-encoded as Lambda delivers them.
    static func functionURLEvent(png: Data) throws -> Data {
        let event: [String: Any] = [
            "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
            "headers": ["content-type": "image/png"],
            "requestContext": [
                "domainName": "abcdefghij.lambda-url.eu-west-1.on.aws", "requestId": "package-lambda-test",
                "routeKey": "$default", "stage": "$default",
                "http": ["method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"],
            ],
            "body": png.base64EncodedString(), "isBase64Encoded": true,
        ]
        return try JSONSerialization.data(withJSONObject: event)
    }

    // MARK: - The emulator

    /// Runs the unpacked bootstrap under the emulator on free ports of 127.0.0.1, invokes it once with `event`
    /// and returns the decoded answer; stops the emulator (and the bootstrap) before returning.
    static func invokeUnderEmulator(taskRoot: URL, libraryPath: String, event: Data) throws -> [String: Any] {
        let (port, runtimePort) = (try freePort(), try freePort())
        let log = taskRoot.deletingLastPathComponent().appendingPathComponent("emulator.log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw Failure(description: "cannot create \(log.path)")
        }
        let emulatorProcess = Process()
        emulatorProcess.executableURL = LambdaPackaging.emulator
        emulatorProcess.arguments = ["--runtime-interface-emulator-address", "127.0.0.1:\(port)",
                                     "--runtime-api-address", "127.0.0.1:\(runtimePort)",
                                     taskRoot.appendingPathComponent("bootstrap").path]
        // Lambda's environment for provided.al2023; nothing of the test's (no proxies, no AWS settings).
        emulatorProcess.environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LAMBDA_TASK_ROOT": taskRoot.path, "LD_LIBRARY_PATH": libraryPath,
            "TZ": "UTC", "AWS_LAMBDA_FUNCTION_TIMEOUT": "60", "BOTTLENECK_THREADS": "1",
        ]
        emulatorProcess.currentDirectoryURL = taskRoot
        let logHandle = try FileHandle(forWritingTo: log)
        emulatorProcess.standardOutput = logHandle
        emulatorProcess.standardError = logHandle
        try emulatorProcess.run()
        defer {
            emulatorProcess.terminate()
            emulatorProcess.waitUntilExit()
        }
        let logText = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(10)
        while !accepts(port: port) {
            guard emulatorProcess.isRunning, Date() < deadline else {
                throw Failure(description: "the emulator did not listen on 127.0.0.1:\(port): \(logText())")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let client = try HTTPClient(configuration: .init(connectTimeout: .seconds(5), totalTimeout: .seconds(120)))
        let response = try client.send(HTTPRequest(
            method: .post, url: "http://127.0.0.1:\(port)/2015-03-31/functions/function/invocations",
            headers: ["Content-Type": "application/json"], body: .bytes(event)))
        guard response.statusCode == 200,
              let answer = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw Failure(description: "the emulator answered \(response.statusCode): "
                + "\(String(decoding: response.body, as: UTF8.self))\n\(logText())")
        }
        return answer
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
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
        guard bound else { throw Failure(description: "binding a socket to 127.0.0.1 failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    // MARK: - Files and tools

    /// Every regular file under `root`, with its path relative to `root`; a symlink is a failure (Lambda's zip
    /// must hold the files themselves).
    static func regularFiles(under root: URL) throws -> [(path: String, bytes: Int)] {
        let paths = try FileManager.default.subpathsOfDirectory(atPath: root.path)
        return try paths.compactMap { path in
            let attributes = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(path).path)
            let type = attributes[.type] as? FileAttributeType
            if type == .typeSymbolicLink { throw Failure(description: "\(path) is a symlink in the zip") }
            guard type == .typeRegular else { return nil }
            return (path, (attributes[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    static func size(of url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Runs `tool` from PATH; returns its standard output, throws with its error output when it fails.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (output, errors) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) failed: "
                + String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }
}
