import BottleneckNetwork
import Foundation
import Testing

/// HTTPClient against the local scripted server: bodies both ways, connection reuse, limits and redirects.
@Suite(.localHTTPServer)
struct HTTPClientTests {
    private struct Echo: Decodable {
        let method: String
        let path: String
        let headers: [String: String]
        let bodyLength: Int
        let bodySHA256: String
        let peerPort: Int
    }

    private func server() throws -> LocalHTTPServer {
        try #require(LocalHTTPServer.current, "the suite's .localHTTPServer trait did not start a server")
    }

    private func echo(_ response: HTTPResponse) throws -> Echo {
        try JSONDecoder().decode(Echo.self, from: response.body)
    }

    /// SHA-256 in hex by the system tool, so the check does not depend on code under test.
    private func sha256(of file: URL) throws -> String {
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }

    @Test func getReturnsStatusHeadersAndBody() throws {
        let client = try HTTPClient()
        var request = HTTPRequest(method: .get, url: try server().baseURL + "/echo/get?x=1")
        request.headers.add(name: "X-Custom", value: "value with spaces")
        let response = try client.send(request)
        #expect(response.statusCode == 200)
        #expect(response.isSuccess)
        #expect(response.headers["x-echo"] == "yes")
        #expect(response.headers["CONTENT-TYPE"] == "application/json")
        let echo = try echo(response)
        #expect(echo.method == "GET")
        #expect(echo.path == "/echo/get?x=1")
        #expect(echo.headers["x-custom"] == "value with spaces")
        #expect(echo.headers["user-agent"] == "bottleneck")
    }

    @Test func consecutiveRequestsReuseOneConnection() throws {
        let client = try HTTPClient()
        let url = try server().baseURL + "/echo/reuse"
        let first = try echo(client.send(HTTPRequest(method: .get, url: url)))
        let second = try echo(client.send(HTTPRequest(method: .get, url: url)))
        #expect(first.peerPort == second.peerPort, "the second request opened a new connection")
    }

    @Test func putAndPostSendBytesUnchanged() throws {
        let client = try HTTPClient()
        let bytes = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let base = try server().baseURL
        let put = try echo(client.send(HTTPRequest(method: .put, url: base + "/echo/put", body: .bytes(bytes))))
        #expect(put.method == "PUT")
        #expect(put.bodyLength == bytes.count)
        let post = try echo(client.send(HTTPRequest(method: .post, url: base + "/echo/post", body: .bytes(bytes))))
        #expect(post.method == "POST")
        #expect(post.bodySHA256 == put.bodySHA256)
        let empty = try echo(client.send(HTTPRequest(method: .put, url: base + "/echo/empty", body: .bytes(Data()))))
        #expect(empty.bodyLength == 0)
    }

    @Test func putStreamsAFile() throws {
        let folder = try TestSupport.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("upload.bin")
        // 3 MiB: more than libcurl's 1 MiB Expect: 100-continue threshold and many read callbacks.
        try Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 9)) }).write(to: file)
        let request = HTTPRequest(method: .put, url: try server().baseURL + "/echo/file", body: .file(file))
        let echo = try echo(HTTPClient().send(request))
        #expect(echo.bodyLength == 3 << 20)
        #expect(echo.bodySHA256 == (try sha256(of: file)))
    }

    @Test func missingUploadFileIsAFileAccessError() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/bottleneck-upload.bin")
        let error = try #require(throws: NetworkError.self) {
            try HTTPClient().send(HTTPRequest(method: .put, url: server().baseURL + "/echo/x", body: .file(missing)))
        }
        #expect(error.code == .fileAccess)
        #expect(error.description.contains(missing.path))
    }

    @Test func deleteAndHeadUseTheirMethods() throws {
        let client = try HTTPClient(configuration: .init(maxResponseBodySize: 1000))
        let deleted = try echo(client.send(HTTPRequest(method: .delete, url: try server().baseURL + "/echo/delete")))
        #expect(deleted.method == "DELETE")
        // HEAD of a body far over the limit: the headers arrive and no body is read, so the limit does not apply.
        let head = try client.send(HTTPRequest(method: .head, url: try server().baseURL + "/bytes/5000000"))
        #expect(head.statusCode == 200)
        #expect(head.headers["Content-Length"] == "5000000")
        #expect(head.body.isEmpty)
    }

    @Test func bodyWithinTheLimitArrivesWhole() throws {
        let client = try HTTPClient(configuration: .init(maxResponseBodySize: 100_000))
        let response = try client.send(HTTPRequest(method: .get, url: try server().baseURL + "/bytes/100000"))
        #expect(response.body.count == 100_000)
        #expect(response.body.prefix(300) == Data((0..<300).map { UInt8(truncatingIfNeeded: $0) }))
    }

    @Test func announcedBodyOverTheLimitFailsBeforeReadingIt() throws {
        let client = try HTTPClient(configuration: .init(maxResponseBodySize: 100_000))
        let error = try #require(throws: NetworkError.self) {
            try client.send(HTTPRequest(method: .get, url: try server().baseURL + "/bytes/100001"))
        }
        #expect(error.code == .tooLarge)
        #expect(error.description.contains("100000 bytes"))
        // The client stays usable.
        #expect(try client.send(HTTPRequest(method: .get, url: try server().baseURL + "/bytes/10")).body.count == 10)
    }

    @Test func unannouncedBodyIsCutOffWhileStreaming() throws {
        // /endless would send 1 GiB; the write callback stops it just past 1 MiB, long before the timeout.
        let client = try HTTPClient(configuration: .init(totalTimeout: .seconds(20), maxResponseBodySize: 1 << 20))
        let start = ContinuousClock.now
        let error = try #require(throws: NetworkError.self) {
            try client.send(HTTPRequest(method: .get, url: try server().baseURL + "/endless"))
        }
        #expect(error.code == .tooLarge)
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func redirectsAreReturnedWhenNotFollowed() throws {
        let response = try HTTPClient().send(HTTPRequest(method: .get, url: try server().baseURL + "/redirect/1"))
        #expect(response.statusCode == 302)
        #expect(response.headers["Location"] == "/redirect/0")
    }

    @Test func redirectsAreFollowedUpToTheLimit() throws {
        let client = try HTTPClient(configuration: .init(maxRedirects: 3))
        let response = try client.send(HTTPRequest(method: .get, url: try server().baseURL + "/redirect/3"))
        #expect(response.statusCode == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "arrived")
        #expect(response.headers["Location"] == nil, "headers must be the final response's")

        let error = try #require(throws: NetworkError.self) {
            try client.send(HTTPRequest(method: .get, url: try server().baseURL + "/redirect/4"))
        }
        #expect(error.code == .tooManyRedirects)
    }

    @Test(arguments: ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/x"])
    func redirectsToOtherSchemesAreRefused(location: String) throws {
        let client = try HTTPClient(configuration: .init(maxRedirects: 3))
        let url = try server().baseURL + "/redirect-to?location="
            + location.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let error = try #require(throws: NetworkError.self) { try client.send(HTTPRequest(method: .get, url: url)) }
        #expect(error.code == .unsupportedProtocol)
    }

    @Test func nonHTTPURLsAreRefused() throws {
        let error = try #require(throws: NetworkError.self) {
            try HTTPClient().send(HTTPRequest(method: .get, url: "file:///etc/hostname"))
        }
        #expect(error.code == .unsupportedProtocol)
        #expect(error.description.contains("Only http and https"))
    }

    @Test func addressFilterAppliesToRedirectTargets() throws {
        // The filter allows the first connection (to the server) and denies the next one (the redirect target).
        let listener = try ListeningSocket()
        let seen = LockedValue<[String]>([])
        let client = try HTTPClient(configuration: .init(maxRedirects: 3, addressFilter: { address in
            seen.value.append(address)
            return seen.value.count == 1
        }))
        let target = "http://127.0.0.1:\(listener.port)/internal"
        let url = try server().baseURL + "/redirect-to?location="
            + target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let error = try #require(throws: NetworkError.self) { try client.send(HTTPRequest(method: .get, url: url)) }
        #expect(error.code == .addressDenied)
        #expect(seen.value == ["127.0.0.1", "127.0.0.1"])
        #expect(!listener.takePendingConnection(), "the redirect target was contacted although the filter denied it")
    }

    @Test func refusedConnectionIsReportedClearly() throws {
        let port = try TestSupport.closedPort()
        let error = try #require(throws: NetworkError.self) {
            try HTTPClient().send(HTTPRequest(method: .get, url: "http://user:password@127.0.0.1:\(port)/x"))
        }
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains("GET http://127.0.0.1:\(port)/x"))
        #expect(!error.description.contains("password"), "credentials in a URL must not appear in messages")
        #expect(error.description.contains("Couldn't connect to server"), "libcurl's curl_easy_strerror text")
        #expect(error.attempts == 1)
    }
}
