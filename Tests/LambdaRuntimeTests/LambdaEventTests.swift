import Foundation
@testable import LambdaRuntime
import Testing

/// Decoding the AWS documentation's sample events: kind, method, path, headers, query, body.
@Suite struct LambdaEventTests {
    @Test func restAPIPayload1() throws {
        let event = try LambdaEvent(decoding: EventFixtures.data("rest-api-v1"))
        #expect(event.source == .restAPI)
        #expect(event.method == "POST" && event.path == "/classify")
        #expect(event.headers["content-type"] == "application/json", "header names are lowercased")
        #expect(event.contentType == "application/json")
        #expect(event.queryParameters == ["top": "3", "parameter2": "value"])
        #expect(String(decoding: event.body, as: UTF8.self) == #"{"url": "https://example.com/cat.jpg"}"#)
        #expect(!event.bodyWasBase64Encoded)
    }

    @Test func httpAPIPayload2() throws {
        let event = try LambdaEvent(decoding: EventFixtures.data("http-api-v2"))
        #expect(event.source == .httpAPI)
        #expect(event.method == "POST" && event.path == "/classify")
        #expect(event.queryParameters["top"] == "2")
        #expect(event.headers["header2"] == "value1,value2")
        #expect(String(decoding: event.body, as: UTF8.self).hasPrefix(#"{"urls""#))
    }

    @Test func functionURLWithBinaryBody() throws {
        let event = try LambdaEvent(decoding: EventFixtures.data("function-url"))
        #expect(event.source == .functionURL)
        #expect(event.method == "POST" && event.path == "/my/path")
        #expect(event.bodyWasBase64Encoded)
        #expect(Array(event.body.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        #expect(event.body.count == 16)
        // rawQueryString is authoritative: the repeated parameter keeps its last value, not the comma-joined one.
        #expect(event.queryParameters["parameter1"] == "value2" && event.queryParameters["top"] == "4")
        #expect(event.contentType == "image/png")
    }

    @Test func directInvocation() throws {
        let bytes = try EventFixtures.data("direct-url")
        let event = try LambdaEvent(decoding: bytes)
        #expect(event.source == .direct && !event.source.isHTTP)
        #expect(event.body == bytes && event.headers.isEmpty && event.queryParameters.isEmpty)
    }

    @Test func nonObjectEventsAreDirect() throws {
        for text in ["[1, 2]", "\"just a string\"", "not json at all", "{\"requestContext\": {}}"] {
            let event = try LambdaEvent(decoding: Data(text.utf8))
            #expect(event.source == .direct, "\(text)")
        }
    }

    @Test func nullBodyAndHeaders() throws {
        let event = try LambdaEvent(decoding: EventFixtures.modified("rest-api-v1", [
            "body": NSNull(), "headers": NSNull(), "queryStringParameters": NSNull()]))
        #expect(event.source == .restAPI && event.body.isEmpty && event.headers.isEmpty)
        #expect(event.queryParameters.isEmpty)
    }

    @Test func invalidBase64BodyIsRejected() throws {
        let data = try EventFixtures.modified("function-url", ["body": "***not base64***"])
        let error = try #require(throws: LambdaRuntimeError.self) { try LambdaEvent(decoding: data) }
        #expect(error.code == .invalidEvent && error.message.contains("not valid base64"))
    }

    @Test func wrongFieldTypeIsRejected() throws {
        let data = try EventFixtures.modified("http-api-v2", ["headers": 42])
        let error = try #require(throws: LambdaRuntimeError.self) { try LambdaEvent(decoding: data) }
        #expect(error.code == .invalidEvent && error.message.contains("payload format version"))
    }

    @Test func queryStringDecoding() {
        let pairs = LambdaEvent.parseQuery("a=1&b=x%20y&c=p+q&d&=skipped&e=")
        #expect(pairs.map(\.0) == ["a", "b", "c", "d", "e"])
        #expect(pairs.map(\.1) == ["1", "x y", "p q", "", ""])
    }
}
