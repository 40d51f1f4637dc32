import BottleneckNetwork
import Foundation
import Testing

/// The built `bootstrap` under the real Runtime Interface Emulator: every event kind, every error path, the init
/// failure, and the figures (cold start, warm latency, peak memory) with a tiny synthetic combined model.
@Suite(.serialized,
       .enabled(if: BootstrapFixtures.hasPrerequisites, Comment(rawValue: BootstrapFixtures.noPrerequisites)))
struct BootstrapTests {
    /// A folder with the model, three PNGs of pure colours and a text file, served by an `ImageServer`.
    final class Setup {
        let folder: URL
        let model: URL
        let server: ImageServer

        init() throws {
            folder = try BootstrapFixtures.makeTemporaryFolder()
            model = folder.appendingPathComponent("model.onnx")
            try BootstrapFixtures.writeModel(to: model)
            for (name, colour) in [("red", (220, 20, 20)), ("green", (20, 220, 20)), ("blue", (20, 20, 220))] {
                try BootstrapFixtures.png(red: UInt8(colour.0), green: UInt8(colour.1), blue: UInt8(colour.2))
                    .write(to: folder.appendingPathComponent("\(name).png"))
            }
            try Data("just some text\n".utf8).write(to: folder.appendingPathComponent("notes.txt"))
            server = try ImageServer(folder: folder)
        }

        func url(_ name: String) -> String { server.baseURL + "/files/" + name }

        func bytes(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }

        /// An emulator whose bootstrap serves this folder's model.
        func emulator(allowLoopback: Bool = true, _ extra: [String: String] = [:]) throws -> RuntimeEmulator {
            var environment = ["LAMBDA_TASK_ROOT": folder.path, "BOTTLENECK_THREADS": "1"]
            if allowLoopback { environment["BOTTLENECK_ALLOW_LOOPBACK"] = "1" }
            return try RuntimeEmulator(environment: environment.merging(extra) { $1 })
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    // MARK: - Events

    /// The AWS sample event `name` (Tests/Fixtures/lambda-events) with its body and query replaced.
    static func httpEvent(_ name: String, body: String, base64: Bool = false, contentType: String = "application/json",
                          query: String = "") throws -> Data {
        let url = BootstrapFixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/lambda-events/\(name).json")
        var event = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        event["body"] = body
        event["isBase64Encoded"] = base64
        if name == "rest-api-v1" {
            event["headers"] = ["Content-Type": contentType]
            event["multiValueHeaders"] = ["Content-Type": [contentType]]
            let pairs = query.split(separator: "&").map { $0.split(separator: "=").map(String.init) }
            event["queryStringParameters"] = pairs.isEmpty
                ? NSNull() : Dictionary(uniqueKeysWithValues: pairs.map { ($0[0], $0[1]) })
        } else {
            event["headers"] = ["content-type": contentType]
            event["rawQueryString"] = query
            event["queryStringParameters"] = nil
        }
        return try JSONSerialization.data(withJSONObject: event)
    }

    /// An HTTP answer: the response document's status and its JSON body.
    static func httpAnswer(_ response: HTTPResponse) throws -> (status: Int, body: [String: Any]) {
        #expect(response.statusCode == 200, "the emulator answered \(response.statusCode)")
        let document = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                                    "\(String(decoding: response.body, as: UTF8.self))")
        #expect((document["headers"] as? [String: String])?["content-type"] == "application/json")
        #expect(document["isBase64Encoded"] as? Bool == false)
        let body = try #require(document["body"] as? String)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
        return (try #require(document["statusCode"] as? Int), object)
    }

    /// The labels of the top classes of each result.
    static func labels(_ body: [String: Any]) -> [[String]] {
        ((body["results"] as? [[String: Any]]) ?? []).map { result in
            ((result["top"] as? [[String: Any]]) ?? []).compactMap { $0["label"] as? String }
        }
    }

    static func json(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                     "\(String(decoding: response.body, as: UTF8.self))")
    }

    // MARK: - Tests

    @Test func everyEventKindIsClassified() throws {
        let setup = try Setup()
        let emulator = try setup.emulator()
        defer { emulator.stop() }

        let start = ContinuousClock.now
        let direct = try emulator.invoke(json: #"{"url": "\#(setup.url("red.png"))", "top": 2}"#)
        let coldStart = ContinuousClock.now - start
        #expect(direct.statusCode == 200)
        let directBody = try Self.json(direct)
        #expect(Self.labels(directBody) == [["red", "green"]], "\(directBody)")
        let first = try #require((directBody["results"] as? [[String: Any]])?.first)
        #expect(first["url"] as? String == setup.url("red.png"))
        let score = try #require((first["top"] as? [[String: Any]])?.first?["score"] as? Double)
        // Channel means of about (+0.73, -0.77, -0.77) times 10 as logits: softmax gives red > 0.99.
        #expect(score > 0.99)
        #expect(first["fetchMs"] is Double && first["decodeMs"] is Double && first["inferenceMs"] is Double)

        let rest = try Self.httpAnswer(emulator.invoke(Self.httpEvent(
            "rest-api-v1", body: #"{"url": "\#(setup.url("green.png"))"}"#, query: "top=1")))
        #expect(rest.status == 200 && Self.labels(rest.body) == [["green"]], "\(rest.body)")

        let httpAPI = try Self.httpAnswer(emulator.invoke(Self.httpEvent(
            "http-api-v2", body: #"{"urls": ["\#(setup.url("blue.png"))", "\#(setup.url("red.png"))"], "top": 1}"#)))
        #expect(httpAPI.status == 200 && Self.labels(httpAPI.body) == [["blue"], ["red"]], "\(httpAPI.body)")

        let functionURL = try Self.httpAnswer(emulator.invoke(Self.httpEvent(
            "function-url", body: try setup.bytes("blue.png").base64EncodedString(), base64: true,
            contentType: "image/png", query: "top=3")))
        #expect(functionURL.status == 200 && Self.labels(functionURL.body) == [["blue", "green", "red"]]
                || Self.labels(functionURL.body) == [["blue", "red", "green"]], "\(functionURL.body)")

        // A REST API without binary media types passes a text body through: base64 sent as text/plain.
        let textBody = try Self.httpAnswer(emulator.invoke(Self.httpEvent(
            "rest-api-v1", body: try setup.bytes("green.png").base64EncodedString(), contentType: "text/plain")))
        #expect(textBody.status == 200 && Self.labels(textBody.body).first?.first == "green", "\(textBody.body)")

        let redBase64 = try setup.bytes("red.png").base64EncodedString()
        let directImage = try Self.json(emulator.invoke(json: #"{"image": "\#(redBase64)", "top": 1}"#))
        #expect(Self.labels(directImage) == [["red"]])

        // Warm latency: a direct URL request (fetch from 127.0.0.1 included) and a direct image-bytes request.
        var urlLatencies: [Double] = [], bytesLatencies: [Double] = []
        let redBytes = #"{"image": "\#(redBase64)", "top": 1}"#
        for _ in 0..<20 {
            var begin = ContinuousClock.now
            #expect(try emulator.invoke(json: #"{"url": "\#(setup.url("red.png"))", "top": 1}"#).statusCode == 200)
            urlLatencies.append(Self.milliseconds(ContinuousClock.now - begin))
            begin = ContinuousClock.now
            #expect(try emulator.invoke(json: redBytes).statusCode == 200)
            bytesLatencies.append(Self.milliseconds(ContinuousClock.now - begin))
        }
        let peak = emulator.bootstrapPeakResidentKiB()
        #expect(peak != nil, "the bootstrap process was not found under the emulator")
        urlLatencies.sort()
        bytesLatencies.sort()
        print("lambda bootstrap figures: cold start \(Self.format(Self.milliseconds(coldStart))) ms (process start "
            + "to first response, tiny model), warm median \(Self.format(urlLatencies[10])) ms by URL, "
            + "\(Self.format(bytesLatencies[10])) ms by bytes (p90 \(Self.format(urlLatencies[18])) / "
            + "\(Self.format(bytesLatencies[18])) ms), peak RSS \((peak ?? 0) / 1024) MiB")

        // One JSON log line per invocation, with the request id, the event kind, the status and the timings.
        let invocations = emulator.bootstrapLogLines.filter { $0["message"] as? String == "invocation" }
        #expect(invocations.count == 46, "\(emulator.log)")
        let kinds = Set(invocations.compactMap { $0["event"] as? String })
        #expect(kinds == ["direct", "restAPI", "httpAPI", "functionURL"])
        for line in invocations {
            #expect((line["requestId"] as? String)?.isEmpty == false && line["status"] as? Int == 200)
            #expect(line["durationMs"] is Double && line["inferenceMs"] is Double && line["level"] as? String == "INFO")
        }
        #expect(emulator.bootstrapLogLines.contains {
            $0["message"] as? String == "initialized" && $0["initMs"] is Double
        })
    }

    @Test func errorPathsHaveTheirStatus() throws {
        let setup = try Setup()
        // Downloads may take 1 s and invocations 4 s.
        let emulator = try setup.emulator(["BOTTLENECK_FETCH_TIMEOUT": "1", "AWS_LAMBDA_FUNCTION_TIMEOUT": "4"])
        defer { emulator.stop() }

        func httpAPI(_ body: String, contentType: String = "application/json", query: String = "") throws
            -> (status: Int, body: [String: Any]) {
            try Self.httpAnswer(emulator.invoke(Self.httpEvent("http-api-v2", body: body, contentType: contentType,
                                                               query: query)))
        }
        let cases: [(String, Int, String, String)] = [
            (#"{"url": "\#(setup.url("missing.png"))"}"#, 502, "httpStatus", "404"),
            (#"{"url": "\#(setup.server.baseURL)/slow"}"#, 504, "timedOut", "timed out"),
            (#"{"url": "\#(setup.url("notes.txt"))"}"#, 400, "notAnImage", ""),
            (#"{"url": "ftp://127.0.0.1/red.png"}"#, 400, "invalidURL", ""),
            (#"{"url": "http://127.0.0.1:1/red.png"}"#, 502, "unreachable", ""),
            (#"{"url": "#, 400, "invalidRequest", "not a valid JSON object"),
            (#"{"url": "\#(setup.url("red.png"))", "top": 1000}"#, 400, "invalidRequest", "top=1000"),
            (#"{"picture": "x"}"#, 400, "invalidRequest", "exactly one of"),
            ("", 400, "invalidRequest", "no body"),
        ]
        for (body, status, kind, message) in cases {
            let answer = try httpAPI(body)
            #expect(answer.status == status, "\(body): \(answer.body)")
            #expect(answer.body["error"] as? String == kind, "\(body): \(answer.body)")
            #expect(message.isEmpty || (answer.body["message"] as? String)?.contains(message) == true,
                    "\(body): \(answer.body)")
        }
        // Raw bytes that are no image, sent as binary.
        let binary = try Self.httpAnswer(emulator.invoke(Self.httpEvent(
            "function-url", body: Data("GIF89a not supported".utf8).base64EncodedString(), base64: true,
            contentType: "image/gif")))
        #expect(binary.status == 400 && binary.body["error"] as? String == "notAnImage", "\(binary.body)")
        // In a urls request each image fails on its own.
        let mixed = try httpAPI(#"{"urls": ["\#(setup.url("red.png"))", "\#(setup.url("missing.png"))"]}"#)
        let results = try #require(mixed.body["results"] as? [[String: Any]])
        #expect(mixed.status == 200 && results.count == 2)
        #expect(results[0]["top"] != nil && results[1]["error"] as? String == "httpStatus", "\(results)")
        // A one-URL list too: 200 with the error in its result, where a "url" request fails as a whole (above).
        let single = try httpAPI(#"{"urls": ["\#(setup.url("missing.png"))"]}"#)
        let singleResults = try #require(single.body["results"] as? [[String: Any]])
        #expect(single.status == 200 && singleResults.count == 1
                    && singleResults[0]["error"] as? String == "httpStatus", "\(single.body)")

        // Downloads that could outlast the invocation are not started: after two 1 s timeouts, 2 s are left.
        let slow = "\"\(setup.server.baseURL)/slow\""
        let late = try httpAPI(#"{"urls": [\#(slow), \#(slow), \#(slow), \#(slow)]}"#)
        let lateResults = try #require(late.body["results"] as? [[String: Any]])
        #expect(late.status == 200 && lateResults.allSatisfy { $0["error"] as? String == "timedOut" }, "\(late.body)")
        #expect(lateResults.last?["message"] as? String == "Not fetched: the invocation's time limit was nearly "
                + "reached. Send fewer URLs per request, or raise the function's timeout.", "\(late.body)")

        // A direct caller gets a function error: the emulator answers 200 with Lambda's error document.
        let direct = try Self.json(emulator.invoke(json: #"{"url": "\#(setup.url("missing.png"))"}"#))
        #expect(direct["errorType"] as? String == "Classify.httpStatus", "\(direct)")
        #expect((direct["errorMessage"] as? String)?.contains("404") == true, "\(direct)")

        let errors = emulator.bootstrapLogLines.filter {
            $0["message"] as? String == "invocation" && $0["level"] as? String == "ERROR"
        }
        #expect(errors.count >= cases.count + 2, "\(emulator.log)")
        #expect(errors.contains { $0["status"] as? Int == 504 && $0["error"] as? String == "timedOut" })
    }

    @Test func refusedAddressSendsNoPacket() throws {
        let setup = try Setup()
        let emulator = try setup.emulator(allowLoopback: false)
        defer { emulator.stop() }
        for url in [setup.url("red.png"), "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.png",
                    "http://[::1]:1/x.png"] {
            let event = try Self.httpEvent("rest-api-v1", body: #"{"url": "\#(url)"}"#)
            let answer = try Self.httpAnswer(emulator.invoke(event))
            #expect(answer.status == 400 && answer.body["error"] as? String == "refusedAddress",
                    "\(url): \(answer.body)")
        }
        #expect(try setup.server.requestCount() == 0, "the refused request reached the image server")
    }

    @Test func initFailureIsReported() throws {
        let setup = try Setup()
        let emulator = try setup.emulator(["BOTTLENECK_MODEL": "/nonexistent/model.onnx"])
        defer { emulator.stop() }
        let response = try emulator.invoke(json: #"{"url": "\#(setup.url("red.png"))"}"#)
        #expect(response.statusCode == 502)
        let body = try Self.json(response)
        #expect(body["errorType"] as? String == "Runtime.InitializationFailed", "\(body)")
        #expect((body["errorMessage"] as? String)?.contains("/nonexistent/model.onnx") == true, "\(body)")
        #expect(emulator.bootstrapLogLines.contains { $0["message"] as? String == "initialization failed" },
                "\(emulator.log)")
        #expect(emulator.log.contains("Runtime.InitializationFailed"), "\(emulator.log)")
    }

    @Test func badSettingIsAnInitFailure() throws {
        let setup = try Setup()
        let emulator = try setup.emulator(["BOTTLENECK_MODE": "train"])
        defer { emulator.stop() }
        let response = try emulator.invoke(json: #"{"url": "\#(setup.url("red.png"))"}"#)
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(response.statusCode == 502 && body.contains("BOTTLENECK_MODE is 'train'"), "\(body)")
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
