import Foundation
import Testing

/// Where the template and the venv's programs are.
enum ExtractionTemplate {
    /// This file is two folders below the repository root (symlinks resolved, for scratch packages).
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let file = repository.appendingPathComponent("configs/lambda/extraction.yaml")
    static let venv = repository.appendingPathComponent(".venv/bin")
    /// Under CI (`make test` installs the venv) a missing cfn-lint must fail the tests, not skip them.
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: venv.appendingPathComponent("cfn-lint").path)
            || ProcessInfo.processInfo.environment["CI"] == "true"
    }
}

/// configs/lambda/extraction.yaml, the Step Functions Distributed Map that drives extraction over an S3 prefix,
/// checked by cfn-lint (the project venv's, scripts/requirements.txt): CloudFormation schemas, IAM, and the state
/// machine's ASL (E3601, validated because the state machine is a raw AWS::StepFunctions::StateMachine).
@Suite("Extraction template (cfn-lint)", .enabled(if: ExtractionTemplate.isAvailable,
                                                  "needs .venv/bin/cfn-lint (make venv)"))
struct ExtractionTemplateTests {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a venv program; returns its exit status and its standard output and error, together.
    func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = ExtractionTemplate.venv.appendingPathComponent(program)
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
        let text = try String(contentsOf: ExtractionTemplate.file, encoding: .utf8)
        guard text.components(separatedBy: original).count == 2 else {
            throw Failure(description: "'\(original)' does not occur exactly once in \(ExtractionTemplate.file.path)")
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("extraction-\(UUID().uuidString).yaml")
        try text.replacingOccurrences(of: original, with: replacement).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func theTemplatePassesCfnLint() throws {
        let (status, output) = try run("cfn-lint", [ExtractionTemplate.file.path])
        #expect(status == 0, "cfn-lint: \(output)")
    }

    @Test("a broken state machine fails cfn-lint's ASL check (E3601)",
          arguments: [
              // The map's processor starts at a state that does not exist.
              ("StartAt: ExtractBatch", "StartAt: ExtractBatches"),
              // A field ASL does not have (the real one is ResultSelector).
              ("ResultSelector:", "OutputSelector:"),
          ])
    func brokenStateMachinesFail(original: String, replacement: String) throws {
        let copy = try mutatedCopy(replacing: original, with: replacement)
        defer { try? FileManager.default.removeItem(at: copy) }
        let (status, output) = try run("cfn-lint", [copy.path])
        #expect(status != 0 && output.contains("E3601"), "cfn-lint accepted '\(replacement)': \(output)")
    }

    /// What cfn-lint does not check (it validates ASL against a schema, not the Distributed Map's limits), read
    /// from the template with cfn-lint's own YAML loader.
    @Test func theDistributedMapStaysWithinTheServiceLimits() throws {
        let script = #"""
            import json, sys
            from cfnlint.decode import decode
            template, problems = decode(sys.argv[1])
            assert not problems, problems
            resources = template["Resources"]
            state_machine = resources["ExtractionStateMachine"]["Properties"]
            extract_all = state_machine["Definition"]["States"]["ExtractAll"]
            task = extract_all["ItemProcessor"]["States"]["ExtractBatch"]
            function = resources["ExtractionFunction"]["Properties"]
            print(json.dumps({
                "type": state_machine["StateMachineType"],
                "reader": extract_all["ItemReader"]["Resource"],
                "mode": extract_all["ItemProcessor"]["ProcessorConfig"],
                "batch": extract_all["ItemBatcher"]["MaxItemsPerBatch"],
                "batchBytes": extract_all["ItemBatcher"]["MaxInputBytesPerBatch"],
                "concurrency": extract_all["MaxConcurrency"],
                "tolerated": extract_all["ToleratedFailurePercentage"],
                "retried": sorted(e for r in task["Retry"] for e in r["ErrorEquals"]),
                "extractRetries": sum(r["MaxAttempts"] for r in task["Retry"] if "Extract.Failed" in r["ErrorEquals"]),
                "writer": extract_all["ResultWriter"]["Resource"],
                "timeout": function["Timeout"],
                "memory": function["MemorySize"],
                "runtime": function["Runtime"],
                "variables": function["Environment"]["Variables"],
            }))
            """#
        let (status, output) = try run("python", ["-c", script, ExtractionTemplate.file.path])
        try #require(status == 0, "reading the template failed: \(output)")
        struct Facts: Decodable {
            let type, reader, writer, runtime: String
            let mode: [String: String]
            let batch, batchBytes, concurrency, tolerated, timeout, memory, extractRetries: Int
            let retried: [String]
            let variables: [String: AnyVariable]
        }
        /// `BOTTLENECK_CACHE` is a `!Sub` (an object once loaded); only the literal values are compared.
        struct AnyVariable: Decodable {
            let text: String?
            init(from decoder: any Decoder) throws { text = try? decoder.singleValueContainer().decode(String.self) }
        }
        let facts = try JSONDecoder().decode(Facts.self, from: Data(output.utf8))
        #expect(facts.type == "STANDARD" && facts.reader == "arn:aws:states:::s3:listObjectsV2")
        #expect(facts.mode == ["Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"])
        #expect(facts.writer == "arn:aws:states:::s3:putObject")
        // ItemBatcher: the child input (and MaxInputBytesPerBatch) is at most 256 KiB.
        #expect(facts.batch >= 1 && facts.batchBytes <= 256 * 1024)
        // Within the default Lambda concurrency quota (1,000) and the map's own cap (10,000).
        #expect((1...1000).contains(facts.concurrency))
        #expect((0...100).contains(facts.tolerated))
        #expect(facts.retried.contains("Lambda.TooManyRequestsException")
                && facts.retried.contains("Lambda.ServiceException"))
        // An Express child execution lasts at most 300 s, retries included: every attempt of the function, plus
        // at least 50 s for the throttling backoff, must fit.
        #expect(facts.extractRetries >= 1 && facts.timeout * (1 + facts.extractRetries) + 50 <= 300)
        #expect(facts.runtime == "provided.al2023" && (128...10240).contains(facts.memory))
        #expect(facts.variables["BOTTLENECK_MODE"]?.text == "extract" && facts.variables["BOTTLENECK_CACHE"] != nil)
    }
}
