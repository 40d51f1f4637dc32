import Foundation
import Testing

/// configs/lambda/template.yaml, the classifier function with its Function URL and HTTP API route, checked by
/// cfn-lint (the project venv's, scripts/requirements.txt). cfn-lint 1.58 validates SAM resources against SAM's
/// schemas without running the transform, so the facts it cannot judge (runtime, timeouts against the HTTP API's,
/// the route, the outputs) are read from the template and checked here.
@Suite("Classifier template (cfn-lint)", .enabled(if: TemplateFile.isAvailable,
                                                  "needs .venv/bin/cfn-lint (make venv)"))
struct ClassifierTemplateTests {
    @Test func theTemplatePassesCfnLint() throws {
        let (status, output) = try TemplateFile.run("cfn-lint", [TemplateFile.classifier.file.path])
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
        let copy = try TemplateFile.classifier.mutatedCopy(replacing: original, with: replacement)
        defer { try? FileManager.default.removeItem(at: copy) }
        let (status, output) = try TemplateFile.run("cfn-lint", [copy.path])
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
        let (status, output) = try TemplateFile.run("python", ["-c", script, TemplateFile.classifier.file.path])
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
        let zip = TemplateFile.classifier.file.deletingLastPathComponent().appendingPathComponent(facts.codeUri)
        #expect(zip.standardizedFileURL.path == TemplateFile.repository.appendingPathComponent("build/lambda.zip")
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
