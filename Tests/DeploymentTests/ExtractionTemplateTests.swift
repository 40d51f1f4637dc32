import Foundation
import Testing

/// configs/lambda/extraction.yaml, the Step Functions Distributed Map that drives extraction over an S3 prefix,
/// checked by cfn-lint (the project venv's, scripts/requirements.txt): CloudFormation schemas, IAM, and the state
/// machine's ASL (E3601, validated because the state machine is a raw AWS::StepFunctions::StateMachine).
@Suite("Extraction template (cfn-lint)", .enabled(if: TemplateFile.isAvailable,
                                                  "needs .venv/bin/cfn-lint (make venv)"))
struct ExtractionTemplateTests {
    @Test func theTemplatePassesCfnLint() throws {
        let (status, output) = try TemplateFile.run("cfn-lint", [TemplateFile.extraction.file.path])
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
        let copy = try TemplateFile.extraction.mutatedCopy(replacing: original, with: replacement)
        defer { try? FileManager.default.removeItem(at: copy) }
        let (status, output) = try TemplateFile.run("cfn-lint", [copy.path])
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
        let (status, output) = try TemplateFile.run("python", ["-c", script, TemplateFile.extraction.file.path])
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
