import BottleneckImages
import BottleneckServing
import Foundation
import Testing

/// ImageFetcher against a real HTTP server on 127.0.0.1 (loopback allowed explicitly), and the refusals that
/// happen before any socket exists.
@Suite(.enabled(if: LoopbackImageServer.isAvailable, Comment(rawValue: LoopbackImageServer.unavailable)))
struct ImageFetcherTests {
    static let loopback = FetchPolicy(addresses: .allowingLoopback)

    /// Runs `body` with a fresh server, always stopped afterwards.
    func withServer(_ body: (LoopbackImageServer) throws -> Void) throws {
        let server = try LoopbackImageServer()
        defer { server.stop() }
        try body(server)
    }

    func expectFailure(
        _ kind: ServingError.Kind, fetching url: String, policy: FetchPolicy = loopback, mentioning text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let fetcher = try ImageFetcher(policy: policy)
        do {
            let bytes = try fetcher.fetch(url)
            Issue.record("fetching \(url) returned \(bytes.count) bytes instead of failing",
                         sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func fetchesPNGAndJPEGByTheirBytes() throws {
        try withServer { server in
            let image = TinyClassifierModel.image([200, 40, 40])
            let png = try PNGEncoder.encode(image)
            let jpeg = try JPEGEncoder.encode(image)
            let fetcher = try ImageFetcher(policy: Self.loopback)
            // Served as application/octet-stream under names that say nothing: only the bytes count.
            #expect(try fetcher.fetch(server.serve(png, as: "a")) == Data(png))
            #expect(try fetcher.fetch(server.serve(jpeg, as: "b")) == Data(jpeg))
        }
    }

    @Test func followsUpToThreeRedirectsAndRefusesTheFourth() throws {
        try withServer { server in
            let png = try PNGEncoder.encode(TinyClassifierModel.image([0, 0, 255]))
            try server.serve(png, as: "blue.png")
            let fetcher = try ImageFetcher(policy: Self.loopback)
            #expect(try fetcher.fetch(server.baseURL + "/redirect/3/blue.png") == Data(png))
            try expectFailure(.invalidURL, fetching: server.baseURL + "/redirect/4/blue.png",
                              mentioning: "redirected more than 3 times")
        }
    }

    @Test func loopbackIsRefusedByDefaultWithoutConnecting() throws {
        // A listener that never accepts: its backlog shows whether any connection reached it.
        let listener = try NonAcceptingListener()
        try expectFailure(.refusedAddress, fetching: "http://127.0.0.1:\(listener.port)/cat.png",
                          policy: FetchPolicy(), mentioning: "127.0.0.1")
        #expect(!listener.hadConnection(), "a refused address was connected to")
        try expectFailure(.refusedAddress, fetching: "http://[::1]:\(listener.port)/cat.png",
                          policy: FetchPolicy(), mentioning: "::1")
    }

    @Test func loopbackIsAllowedWithTheOption() throws {
        try withServer { server in
            let png = try PNGEncoder.encode(TinyClassifierModel.image([10, 200, 10]))
            let url = try server.serve(png, as: "green.png")
            try expectFailure(.refusedAddress, fetching: url, policy: FetchPolicy(), mentioning: "127.0.0.1")
            #expect(try ImageFetcher(policy: Self.loopback).fetch(url) == Data(png))
        }
    }

    /// Redirects to the metadata endpoint and to private networks are refused by the address check, which runs
    /// before the socket is opened: the failure is immediate, long before the 5 s connect timeout a real attempt
    /// at an unrouted address would need, and nothing is sent.
    @Test(arguments: ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/internal.png",
                      "http://[::ffff:169.254.169.254]/", "http://[fd00::1]/x.png", "http://100.64.0.1/"])
    func redirectsToNonPublicAddressesAreRefused(target: String) throws {
        try withServer { server in
            let url = server.baseURL + "/redirect-to?location="
                + target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let start = ContinuousClock.now
            try expectFailure(.refusedAddress, fetching: url, mentioning: "address filter refused")
            #expect(ContinuousClock.now - start < .seconds(2))
        }
    }

    @Test func directNonPublicAddressesAreRefusedWithoutConnecting() throws {
        for url in ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://[fe80::1]/",
                    "http://0.0.0.0/", "http://224.0.0.1/"] {
            let start = ContinuousClock.now
            try expectFailure(.refusedAddress, fetching: url, policy: FetchPolicy(), mentioning: "refused")
            #expect(ContinuousClock.now - start < .seconds(2), "\(url)")
        }
    }

    @Test func refusalMessageFollowsThePolicy() throws {
        try expectFailure(.refusedAddress, fetching: "http://10.1.2.3/", policy: FetchPolicy(),
                          mentioning: "Only public addresses are fetched: loopback, private")
        try expectFailure(.refusedAddress, fetching: "http://10.1.2.3/",
                          policy: FetchPolicy(addresses: .allowingLoopback), mentioning: "Only public and loopback addresses are fetched: private")
        let custom = FetchPolicy(addresses: AddressPolicy(allowedCategories: [.publicUnicast, .privateNetwork]))
        try expectFailure(.refusedAddress, fetching: "http://127.0.0.1:9/", policy: custom,
                          mentioning: "allows only these kinds of address: publicUnicast, privateNetwork.")
    }

    @Test func slowServerTimesOut() throws {
        try withServer { server in
            let policy = FetchPolicy(totalTimeout: .milliseconds(500), addresses: .allowingLoopback)
            let start = ContinuousClock.now
            try expectFailure(.timedOut, fetching: server.baseURL + "/slow/5", policy: policy, mentioning: "timed out")
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }

    @Test func oversizedBodiesAreStopped() throws {
        try withServer { server in
            let policy = FetchPolicy(maxBytes: 100_000, addresses: .allowingLoopback)
            let fetcher = try ImageFetcher(policy: policy)
            #expect(try fetcher.fetch(server.baseURL + "/bytes/100000").count == 100_000)
            // Announced by Content-Length, and streamed without one (1 GiB unless stopped).
            try expectFailure(.tooLarge, fetching: server.baseURL + "/bytes/100001", policy: policy,
                              mentioning: "100000 bytes")
            let start = ContinuousClock.now
            try expectFailure(.tooLarge, fetching: server.baseURL + "/endless", policy: policy,
                              mentioning: "100000 bytes")
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test func nonImageBytesAreRefused() throws {
        try withServer { server in
            try expectFailure(.notAnImage, fetching: server.serve(Array("<html><body>hi</body></html>".utf8),
                                                                  as: "page.png"),
                              mentioning: "an HTML page")
            try expectFailure(.notAnImage, fetching: server.serve(Array("GIF89a....".utf8), as: "x.jpg"),
                              mentioning: "a GIF image")
            try expectFailure(.notAnImage, fetching: server.serve([UInt8](), as: "empty.png"),
                              mentioning: "an empty body")
        }
    }

    @Test func errorStatusesAreReportedWithTheStatus() throws {
        try withServer { server in
            for status in [404, 403, 500] {
                let fetcher = try ImageFetcher(policy: Self.loopback)
                let url = status == 404 ? server.baseURL + "/files/missing.png" : server.baseURL + "/status/\(status)"
                let error = try #require(throws: ServingError.self) { try fetcher.fetch(url) }
                #expect(error.kind == .httpStatus)
                #expect(error.upstreamStatus == status)
                #expect(error.message.contains("HTTP status \(status)"))
            }
        }
    }

    @Test(arguments: [
        ("ftp://127.0.0.1/cat.png", "scheme 'ftp'"), ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://127.0.0.1/", "scheme 'gopher'"), ("", "empty"), ("cat.png", "not an absolute URL"),
        ("http://", "names no host"), ("http:///cat.png", "names no host"), ("http://exa mple.com/", "spaces"),
        ("http://[::1/", "not an absolute URL"), ("https://example.com/\u{1F408}.png", "non-ASCII"),
    ])
    func malformedAndNonHTTPURLsAreRefusedBeforeAnyTraffic(url: String, text: String) throws {
        try expectFailure(.invalidURL, fetching: url, policy: FetchPolicy(), mentioning: text)
    }

    @Test func redirectToAnotherSchemeIsRefused() throws {
        try withServer { server in
            try expectFailure(.invalidURL, fetching: server.baseURL + "/redirect-to?location=ftp%3A%2F%2F127.0.0.1%2Fx",
                              mentioning: "not http or https")
        }
    }

    @Test func credentialsInURLsStayOutOfMessages() throws {
        try expectFailure(.refusedAddress, fetching: "http://user:secret@10.0.0.1/x.png", policy: FetchPolicy(),
                          mentioning: "10.0.0.1")
        let error = try #require(throws: ServingError.self) {
            try ImageFetcher().fetch("ftp://user:secret@example.com/x.png")
        }
        #expect(!error.message.contains("secret"))
    }
}
