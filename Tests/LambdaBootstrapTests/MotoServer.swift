import BottleneckNetwork
import Foundation
import Glibc

/// moto's S3 server (`.venv/bin/moto_server`) on a free port of 127.0.0.1, for the extraction mode's tests.
final class MotoServer {
    static let executable = BootstrapFixtures.repositoryRoot.appendingPathComponent(".venv/bin/moto_server")

    /// `http://127.0.0.1:PORT`.
    let endpoint: String
    private let process = Process()

    /// Starts the server and waits up to 30 s until it answers.
    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw HarnessError("\(Self.executable.path) is missing: run `make venv`")
        }
        let port = try BootstrapFixtures.freePort()
        endpoint = "http://127.0.0.1:\(port)"
        process.executableURL = Self.executable
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let http = try HTTPClient(configuration: .init(connectTimeout: .seconds(1), totalTimeout: .seconds(5)))
        let deadline = Date().addingTimeInterval(30)
        while (try? http.send(HTTPRequest(method: .get, url: endpoint + "/moto-api/"))) == nil {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw HarnessError("moto_server did not start on \(endpoint)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The AWS variables that point a client at this server.
    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
         "AWS_ENDPOINT_URL_S3": endpoint]
    }

    /// A client of this server.
    func client() throws -> S3Client {
        try S3Client(aws: AWSConfiguration.load(environment: environment))
    }

    /// Creates a bucket (moto accepts unsigned requests).
    func createBucket(_ name: String) throws {
        let response = try HTTPClient().send(HTTPRequest(method: .put, url: "\(endpoint)/\(name)"))
        guard response.isSuccess else { throw HarnessError("moto refused to create bucket \(name)") }
    }

    /// Kills the server (moto_server ignores SIGTERM) and waits up to 5 s for it to go.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
    }
}
