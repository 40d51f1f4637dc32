import Foundation
import LambdaRuntime
import Testing

/// The Runtime API client and the invocation loop against a scripted fake Runtime API: the long poll's retry, the
/// context headers, `_X_AMZN_TRACE_ID`, responses, errors with their type header, init errors, a 413 answer that
/// the loop survives and a 500 that it does not.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: FakeRuntimeAPI.python.path)
           || ProcessInfo.processInfo.environment["CI"] == "true", "needs .venv/bin/python (make venv)"))
struct RuntimeLoopTests {
    /// Answers `{"n": N}` with `{"double": 2N}` and records the trace id it saw; throws for N = 2.
    final class Doubler: InvocationHandler, @unchecked Sendable {
        var traceIDs: [String?] = []

        struct Refusal: Error, CustomStringConvertible {
            let description = "two is not allowed"
        }

        func handle(_ invocation: Invocation) throws -> InvocationResult {
            traceIDs.append(ProcessInfo.processInfo.environment["_X_AMZN_TRACE_ID"])
            let n = try #require(try JSONSerialization.jsonObject(with: invocation.event) as? [String: Int])["n"]!
            if n == 2 { throw Refusal() }
            return InvocationResult(.response(Data(#"{"double":\#(2 * n)}"#.utf8)), logFields: [("n", .int(n))])
        }
    }

    @Test func pollRespondFailAndExit() throws {
        let server = try FakeRuntimeAPI()
        defer { server.stop() }
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-loop-\(UUID()).log")
        try #require(FileManager.default.createFile(atPath: logURL.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: logURL) }
        let client = try RuntimeAPIClient(endpoint: server.endpoint)
        let loop = RuntimeLoop(client: client, logger: JSONLogger(output: try FileHandle(forWritingTo: logURL)))
        let handler = Doubler()

        // 1st poll: the connection drops and is retried; the event carries a trace id.
        try loop.serveOne(handler)
        // 2nd: the handler throws: an invocation error of type Runtime.Unhandled.
        try loop.serveOne(handler)
        // 3rd: the response post gets 413: logged, and the loop goes on.
        try loop.serveOne(handler)
        // 4th: the Runtime API answers 500: the loop must stop.
        let fatal = try #require(throws: LambdaRuntimeError.self) { try loop.serveOne(handler) }
        #expect(fatal.code == .runtimeAPIRejected && fatal.statusCode == 500, "\(fatal)")
        #expect(handler.traceIDs == ["Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", nil, nil])

        try client.sendInitializationError(FunctionError(type: "Runtime.InitializationFailed", message: "no model"))
        let posts = try server.recorded()
        #expect(posts.map { $0["path"] } == ["/2018-06-01/runtime/invocation/req-1/response",
                                             "/2018-06-01/runtime/invocation/req-2/error",
                                             "/2018-06-01/runtime/invocation/big/response",
                                             "/2018-06-01/runtime/init/error"])
        #expect(posts[0]["body"] == #"{"double":2}"# && posts[0]["errorType"] == "")
        #expect(posts[1]["errorType"] == "Runtime.Unhandled")
        let error = try JSONDecoder().decode(FunctionError.self, from: Data(posts[1]["body"]!.utf8))
        #expect(error == FunctionError(type: "Runtime.Unhandled", message: "two is not allowed"))
        #expect(posts[3]["errorType"] == "Runtime.InitializationFailed" && posts[3]["body"]!.contains("no model"))

        let lines = try String(contentsOf: logURL, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(lines.count == 3)
        #expect(lines[0]["requestId"] as? String == "req-1" && lines[0]["n"] as? Int == 1
                && lines[0]["level"] as? String == "INFO" && lines[0]["durationMs"] is Double)
        #expect(lines[1]["level"] as? String == "ERROR" && lines[1]["errorType"] as? String == "Runtime.Unhandled")
        #expect(lines[2]["level"] as? String == "ERROR" && (lines[2]["postError"] as? String)?.contains("413") == true)
    }

    @Test func contextHeaders() throws {
        let server = try FakeRuntimeAPI()
        defer { server.stop() }
        let client = try RuntimeAPIClient(endpoint: server.endpoint, pollAttempts: 2)
        let invocation = try client.nextInvocation()
        #expect(invocation.context.requestID == "req-1")
        #expect(invocation.context.invokedFunctionARN == "arn:aws:lambda:us-east-1:123456789012:function:test")
        #expect(invocation.context.traceID?.hasPrefix("Root=1-") == true)
        let remaining = invocation.context.remainingTime()
        #expect(remaining > .seconds(25) && remaining <= .seconds(30), "\(remaining)")
        #expect(invocation.event == Data(#"{"n": 1}"#.utf8))
    }

    @Test func unreachableAfterTheRetries() throws {
        let server = try FakeRuntimeAPI()
        let endpoint = server.endpoint
        server.stop()
        let client = try RuntimeAPIClient(endpoint: endpoint, pollAttempts: 2)
        let error = try #require(throws: LambdaRuntimeError.self) { try client.nextInvocation() }
        #expect(error.code == .runtimeAPIUnreachable && error.message.contains("failed 2 times"), "\(error)")
    }

    @Test func missingEnvironment() throws {
        let error = try #require(throws: LambdaRuntimeError.self) { try RuntimeAPIClient(environment: [:]) }
        #expect(error.code == .missingEnvironment && error.message.contains("AWS_LAMBDA_RUNTIME_API"))
    }
}
