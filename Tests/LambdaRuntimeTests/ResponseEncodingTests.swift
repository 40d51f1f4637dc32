import Foundation
@testable import LambdaRuntime
import Testing

/// Response documents for HTTP callers, plain JSON for direct ones, error documents, and the log line format.
@Suite struct ResponseEncodingTests {
    static let json = Data(#"{"top":[{"label":"cat","score":0.9}]}"#.utf8)

    @Test(arguments: [LambdaEvent.Source.restAPI, .httpAPI, .functionURL])
    func httpEventsGetAResponseDocument(source: LambdaEvent.Source) throws {
        let payload = source.responsePayload(statusCode: 400, json: Self.json)
        let document = try JSONDecoder().decode(HTTPResponseDocument.self, from: payload)
        #expect(document == HTTPResponseDocument(statusCode: 400, headers: ["content-type": "application/json"],
                                                 body: String(decoding: Self.json, as: UTF8.self),
                                                 isBase64Encoded: false))
        // API Gateway reads exactly these keys.
        let object = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        #expect(Set(object.keys) == ["statusCode", "headers", "body", "isBase64Encoded"])
    }

    @Test func directEventsGetTheJSONItself() {
        #expect(LambdaEvent.Source.direct.responsePayload(statusCode: 200, json: Self.json) == Self.json)
    }

    @Test func functionErrorDocument() throws {
        let error = FunctionError(type: "Runtime.InitializationFailed", message: "no model")
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(error))
            as? [String: Any])
        #expect(object["errorType"] as? String == "Runtime.InitializationFailed")
        #expect(object["errorMessage"] as? String == "no model")
        #expect((object["stackTrace"] as? [Any])?.isEmpty == true)
    }

    @Test func logLineIsOneJSONObject() throws {
        let line = JSONLogger.line(.error, "invocation", fields: [
            ("requestId", "a\"b\\c\nd\u{1}"), ("status", 502), ("durationMs", .double(12.34567)),
            ("ok", .bool(false)), ("nan", .double(.nan))], time: Date(timeIntervalSince1970: 0))
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        #expect(line.hasPrefix(#"{"time":"1970-01-01T00:00:00.000Z","level":"ERROR","message":"invocation","#),
                "\(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["requestId"] as? String == "a\"b\\c\nd\u{1}")
        #expect(object["status"] as? Int == 502)
        #expect(object["durationMs"] as? Double == 12.346)
        #expect(object["ok"] as? Bool == false)
        #expect(object["nan"] is NSNull)
    }

    @Test func contextRemainingTime() {
        let context = InvocationContext(requestID: "id", deadlineMilliseconds: 10_000, invokedFunctionARN: "",
                                        traceID: nil)
        #expect(context.remainingTime(now: Date(timeIntervalSince1970: 7.5)) == .milliseconds(2500))
        #expect(context.deadline == Date(timeIntervalSince1970: 10))
    }
}
