import BottleneckNetwork
import Foundation
import Testing

/// S3Client's retry policy against the local scripted server (S3-style paths /BUCKET/KEY, XML errors).
@Suite(.localHTTPServer)
struct S3RetryTests {
    private let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI-K7MDENG",
                                             source: "test")
    private let policy = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50))

    private func server() throws -> LocalHTTPServer {
        try #require(LocalHTTPServer.current, "the suite's .localHTTPServer trait did not start a server")
    }

    private func client(endpoint: String) throws -> S3Client {
        try S3Client(aws: AWSConfiguration(credentials: credentials, endpoint: endpoint), retryPolicy: policy)
    }

    @Test func serviceUnavailableTwiceThenSuccessTakesThreeAttempts() throws {
        let key = "object-\(UUID().uuidString)"
        let data = try client(endpoint: server().baseURL).getObject(bucket: "flaky", key: key)
        #expect(String(decoding: data, as: UTF8.self) == "recovered")
        #expect(try server().requestCount(of: "/flaky/\(key)") == 3)
    }

    @Test func droppedConnectionIsRetried() throws {
        let key = "object-\(UUID().uuidString)"
        let data = try client(endpoint: server().baseURL).getObject(bucket: "dropped", key: key)
        #expect(String(decoding: data, as: UTF8.self) == "recovered")
        #expect(try server().requestCount(of: "/dropped/\(key)") == 2)
    }

    @Test func throttlingGivesUpAfterTheConfiguredAttempts() throws {
        let key = "object-\(UUID().uuidString)"
        let error = try #require(throws: NetworkError.self) {
            try client(endpoint: server().baseURL).putObject(bucket: "throttled", key: key, data: Data("x".utf8))
        }
        #expect(error.code == .httpStatus)
        #expect(error.statusCode == 503)
        #expect(error.serviceCode == "SlowDown")
        #expect(error.attempts == 3)
        #expect(error.description.contains("after 3 attempts"))
        #expect(try server().requestCount(of: "/throttled/\(key)") == 3)
    }

    @Test func accessDeniedIsNotRetried() throws {
        let key = "object-\(UUID().uuidString)"
        let error = try #require(throws: NetworkError.self) {
            try client(endpoint: server().baseURL).getObject(bucket: "denied", key: key)
        }
        #expect(error.code == .accessDenied)
        #expect(error.statusCode == 403)
        #expect(error.serviceCode == "AccessDenied")
        #expect(error.attempts == 1)
        #expect(error.description.contains("Check the credentials (access key AKIDEXAMPLE from test)"))
        #expect(error.description.contains("region (us-east-1)"))
        #expect(!error.description.contains("wJalrXUtnFEMI"), "the secret key must never appear in messages")
        #expect(try server().requestCount(of: "/denied/\(key)") == 1)
    }

    @Test func refusedConnectionFailsClearlyAfterTheConfiguredAttempts() throws {
        let endpoint = "http://127.0.0.1:\(try TestSupport.closedPort())"
        let start = ContinuousClock.now
        let error = try #require(throws: NetworkError.self) {
            try client(endpoint: endpoint).getObject(bucket: "bucket", key: "key")
        }
        #expect(error.code == .connectionFailed)
        #expect(error.attempts == 3)
        #expect(error.description.contains(endpoint + "/bucket/key"))
        #expect(error.description.contains("Couldn't connect to server"))
        #expect(error.description.contains("after 3 attempts"))
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
