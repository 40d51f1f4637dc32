import Foundation
import Testing

/// Where the classifier's SAM template and the venv's programs are.
enum ClassifierTemplate {
    /// This file is two folders below the repository root (symlinks resolved, for scratch packages).
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let file = repository.appendingPathComponent("configs/lambda/template.yaml")
    static let venv = repository.appendingPathComponent(".venv/bin")
    /// Under CI (`make test` installs the venv) a missing cfn-lint must fail the tests, not skip them.
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: venv.appendingPathComponent("cfn-lint").path)
            || ProcessInfo.processInfo.environment["CI"] == "true"
    }
}

/// configs/lambda/template.yaml, the classifier function with its Function URL and HTTP API route, checked by
/// cfn-lint (the project venv's, scripts/requirements.txt). cfn-lint 1.58 validates SAM resources against SAM's
/// schemas without running the transform, so the facts it cannot judge (runtime, timeouts against the HTTP API's,
/// the route, the outputs) are read from the template and checked here.
@Suite("Classifier template (cfn-lint)", .enabled(if: ClassifierTemplate.isAvailable,
                                                  "needs .venv/bin/cfn-lint (make venv)"))
struct ClassifierTemplateTests {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a venv program; returns its exit status and its standard output and error, together.
    func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = ClassifierTemplate.venv.appendingPathComponent(program)
        process.arguments = arguments
        // cfn-lint works offline; no AWS settings or proxies from the test's environment reach it.
        process.environment = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.lowercased().hasSuffix("_proxy") && !name.hasPrefix("AWS_")
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// A copy of the template with `original` replaced by `replacement` (which must occur exactly once).
    func mutatedCopy(replacing original: String, with replacement: String) throws -> URL {
        let text = try String(contentsOf: ClassifierTemplate.file, encoding: .utf8)
        guard text.components(separatedBy: original).count == 2 else {
            throw Failure(description: "'\(original)' does not occur exactly once in \(ClassifierTemplate.file.path)")
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("classifier-\(UUID().uuidString).yaml")
        try text.replacingOccurrences(of: original, with: replacement).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func theTemplatePassesCfnLint() throws {
        let (status, output) = try run("cfn-lint", [ClassifierTemplate.file.path])
        #expect(status == 0, "cfn-lint: \(output)")
    }

    @Test("a broken function fails cfn-lint",
          arguments: [
              // Below Lambda's minimum of 128 MB (E3034).
              ("MemorySize: 3538", "MemorySize: 64", "E3034"),
              // A property AWS::Serverless::Function does not have (E3002).
              ("Timeout: 30", "Timeout: 30\n      Timeoutt: 30", "E3002"),
          ])
    func brokenFunctionsFail(original: String, replacement: String, rule: String) throws {
        let copy = try mutatedCopy(replacing: original, with: replacement)
        defer { try? FileManager.default.removeItem(at: copy) }
        let (status, output) = try run("cfn-lint", [copy.path])
        #expect(status != 0 && output.contains(rule), "cfn-lint accepted '\(replacement)': \(output)")
    }

    /// What cfn-lint does not check, read from the template with cfn-lint's own YAML loader.
    @Test func theFunctionFitsTheRuntimeTheRouteAndThePackage() throws {
        let script = #"""
            import json, sys
            from cfnlint.decode import decode
            template, problems = decode(sys.argv[1])
            assert not problems, problems
            function = template["Resources"]["ClassifierFunction"]["Properties"]
            events = list(function["Events"].values())
            outputs = template["Outputs"]
            print(json.dumps({
                "transform": template["Transform"],
                "runtime": function["Runtime"], "handler": function["Handler"],
                "architectures": function["Architectures"], "codeUri": function["CodeUri"],
                "memory": function["MemorySize"], "timeout": function["Timeout"],
                "variables": function["Environment"]["Variables"],
                "invokeMode": function["FunctionUrlConfig"]["InvokeMode"],
                "events": [{"type": e["Type"], "path": e["Properties"]["Path"], "method": e["Properties"]["Method"],
                            "payload": e["Properties"]["PayloadFormatVersion"]} for e in events],
                "urlOutput": outputs["FunctionUrl"]["Value"]["Fn::GetAtt"],
                "endpointOutput": outputs["ClassifyEndpoint"]["Value"]["Fn::Sub"],
            }))
            """#
        let (status, output) = try run("python", ["-c", script, ClassifierTemplate.file.path])
        try #require(status == 0, "reading the template failed: \(output)")
        struct Event: Decodable, Equatable {
            let type, path, method, payload: String
        }
        struct Facts: Decodable {
            let transform, runtime, handler, codeUri, invokeMode, endpointOutput: String
            let architectures, urlOutput: [String]
            let memory, timeout: Int
            let variables: [String: String]
            let events: [Event]
        }
        let facts = try JSONDecoder().decode(Facts.self, from: Data(output.utf8))
        #expect(facts.transform == "AWS::Serverless-2016-10-31")
        #expect(facts.runtime == "provided.al2023" && facts.handler == "bootstrap" && facts.architectures == ["x86_64"])
        // CodeUri is relative to the template: it must name the zip `bottleneck package-lambda` writes by default.
        let zip = ClassifierTemplate.file.deletingLastPathComponent().appendingPathComponent(facts.codeUri)
        #expect(zip.standardizedFileURL.path == ClassifierTemplate.repository.appendingPathComponent("build/lambda.zip")
            .standardizedFileURL.path)
        #expect((128...10240).contains(facts.memory))
        // An HTTP API waits at most 30 s for the function; the image download must give up before the function does.
        #expect((1...30).contains(facts.timeout))
        let fetchTimeout = try #require(facts.variables["BOTTLENECK_FETCH_TIMEOUT"].flatMap(Double.init))
        #expect(fetchTimeout > 0 && fetchTimeout < Double(facts.timeout))
        #expect(facts.variables["BOTTLENECK_MODE"] == "classify")
        #expect(facts.variables["SSL_CERT_FILE"] == "/etc/pki/tls/certs/ca-bundle.crt")
        #expect(facts.variables["BOTTLENECK_ALLOW_LOOPBACK"] == nil, "loopback image URLs are for tests only")
        #expect(facts.invokeMode == "BUFFERED")
        #expect(facts.events == [Event(type: "HttpApi", path: "/classify", method: "POST", payload: "2.0")])
        // SAM names the Function URL resource <function>Url.
        #expect(facts.urlOutput == ["ClassifierFunctionUrl", "FunctionUrl"])
        #expect(facts.endpointOutput.hasSuffix("/classify"))
    }
}
