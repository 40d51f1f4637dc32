import Foundation
import LambdaRuntime
import Testing

/// What callers ask for: URLs, base64 and raw image bodies, `top` from JSON or the query, and every rejection.
@Suite struct ImageRequestTests {
    static let pngBytes = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])

    static func http(_ body: Data, base64: Bool = false, contentType: String? = nil,
                     query: [String: String] = [:]) -> LambdaEvent {
        LambdaEvent(source: .httpAPI, method: "POST", path: "/classify",
                    headers: contentType.map { ["content-type": $0] } ?? [:], queryParameters: query, body: body,
                    bodyWasBase64Encoded: base64)
    }

    static func direct(_ json: String) -> LambdaEvent {
        LambdaEvent(source: .direct, body: Data(json.utf8))
    }

    static func rejection(_ event: LambdaEvent, limits: ImageRequest.Limits = .init()) throws -> LambdaRuntimeError {
        try #require(throws: LambdaRuntimeError.self) { try ImageRequest(event: event, limits: limits) }
    }

    @Test func sampleEvents() throws {
        let rest = try ImageRequest(event: LambdaEvent(decoding: EventFixtures.data("rest-api-v1")))
        #expect(rest == ImageRequest(images: .url("https://example.com/cat.jpg"), top: 3))
        let httpAPI = try ImageRequest(event: LambdaEvent(decoding: EventFixtures.data("http-api-v2")))
        #expect(httpAPI == ImageRequest(images: .urls(["https://example.com/a.jpg", "https://example.com/b.png"]),
                                        top: 2))
        let functionURL = try ImageRequest(event: LambdaEvent(decoding: EventFixtures.data("function-url")))
        guard case .bytes(let bytes) = functionURL.images else { Issue.record("expected bytes"); return }
        #expect(bytes.count == 16 && functionURL.top == 4)
        let direct = try ImageRequest(event: LambdaEvent(decoding: EventFixtures.data("direct-url")))
        #expect(direct == ImageRequest(images: .url("https://example.com/cat.jpg"), top: 3))
    }

    @Test func directForms() throws {
        #expect(try ImageRequest(event: Self.direct(#"{"urls": ["http://a/1", "http://a/2"]}"#))
            == ImageRequest(images: .urls(["http://a/1", "http://a/2"])))
        // A one-element list stays a list: its image fails on its own, unlike a "url" request's.
        #expect(try ImageRequest(event: Self.direct(#"{"urls": ["http://a/1"]}"#))
            == ImageRequest(images: .urls(["http://a/1"])))
        #expect(try ImageRequest(event: Self.direct(#"{"url": "http://a/1"}"#))
            == ImageRequest(images: .url("http://a/1")))
        let image = try ImageRequest(event: Self.direct(#"{"image": "\#(Self.pngBytes.base64EncodedString())"}"#))
        #expect(image == ImageRequest(images: .bytes(Self.pngBytes)))
    }

    @Test func rawBinaryBody() throws {
        let request = try ImageRequest(event: Self.http(Self.pngBytes, base64: true, contentType: "image/png",
                                                        query: ["top": "7"]))
        #expect(request == ImageRequest(images: .bytes(Self.pngBytes), top: 7))
    }

    @Test func base64TextBodyWithoutTheFlag() throws {
        // A REST API without binary media types delivers a text body as is: the client sent base64 itself.
        let text = Self.pngBytes.base64EncodedString(options: .lineLength64Characters) + "\n"
        let request = try ImageRequest(event: Self.http(Data(text.utf8), contentType: "text/plain"))
        #expect(request == ImageRequest(images: .bytes(Self.pngBytes)))
    }

    @Test func jsonWithoutContentTypeAndJSONTopWins() throws {
        let request = try ImageRequest(event: Self.http(Data(#"  {"url": "http://x/y.jpg", "top": 2}"#.utf8),
                                                        query: ["top": "9"]))
        #expect(request == ImageRequest(images: .url("http://x/y.jpg"), top: 2))
    }

    @Test func urlInTheQueryOfABodylessRequest() throws {
        let event = LambdaEvent(source: .functionURL, method: "GET", path: "/", queryParameters: [
            "url": "https://example.com/a b.jpg", "top": "2"], body: Data())
        #expect(try ImageRequest(event: event) == ImageRequest(images: .url("https://example.com/a b.jpg"), top: 2))
        let decoded = try LambdaEvent(decoding: EventFixtures.modified("function-url", [
            "body": nil, "isBase64Encoded": false, "rawQueryString": "url=http%3A%2F%2Fx%2Fy.png&top=1"]))
        #expect(try ImageRequest(event: decoded) == ImageRequest(images: .url("http://x/y.png"), top: 1))
    }

    @Test func jsonSentAsBinaryBody() throws {
        // Function URLs base64-encode bodies whose content type they do not treat as text.
        let body = Data(#"{"url": "http://x/y.jpg"}"#.utf8)
        let request = try ImageRequest(event: Self.http(body, base64: true, contentType: "application/json"))
        #expect(request == ImageRequest(images: .url("http://x/y.jpg")))
    }

    @Test func rejections() throws {
        let cases: [(LambdaEvent, String)] = [
            (Self.http(Data()), "has no body"),
            (Self.http(Data("{\"url\": ".utf8), contentType: "application/json"), "not a valid JSON object"),
            (Self.direct(#"{"url": 42}"#), #""url" has the wrong type"#),
            (Self.direct(#"{"url": "http://a", "top": "three"}"#), #""top" has the wrong type"#),
            (Self.direct(#"{"top": 3}"#), "exactly one of"),
            (Self.direct(#"{"url": "http://a", "urls": ["http://b"]}"#), "exactly one of"),
            (Self.direct(#"{"urls": []}"#), "is empty"),
            (Self.direct(#"{"url": "http://a", "top": 0}"#), "top=0 is out of range"),
            (Self.direct(#"{"url": "http://a", "top": 101}"#), "top=101 is out of range"),
            (Self.direct(#"{"image": "%%%"}"#), "not base64"),
            (Self.http(Data("hello, world!".utf8), contentType: "text/plain"), "neither JSON nor base64"),
            (Self.http(Data(#"{"url": "http://a"}"#.utf8), query: ["top": "many"]), "top=many is not an integer"),
        ]
        for (event, message) in cases {
            let error = try Self.rejection(event)
            #expect(error.code == .invalidEvent, "\(message)")
            #expect(error.message.contains(message), "expected '\(message)' in: \(error.message)")
        }
    }

    @Test func limits() throws {
        let limits = ImageRequest.Limits(maxURLs: 2, maxImageBytes: 10, topRange: 1...5)
        let tooMany = try Self.rejection(Self.direct(#"{"urls": ["http://a", "http://b", "http://c"]}"#),
                                         limits: limits)
        #expect(tooMany.code == .invalidEvent && tooMany.message.contains("at most 2"))
        let tooLarge = try Self.rejection(Self.http(Self.pngBytes, base64: true), limits: limits)
        #expect(tooLarge.code == .payloadTooLarge && tooLarge.message.contains("11 bytes"))
        let topTooLarge = try Self.rejection(Self.direct(#"{"url": "http://a", "top": 6}"#), limits: limits)
        #expect(topTooLarge.message.contains("between 1 and 5"))
    }
}
