import Foundation

/// Paths and process environment shared by the suites.
enum TestSupport {
    /// The repository root: this file is two folders below it. Symlinks are resolved so that a scratch package
    /// linking to this folder still finds the repository.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The project's Python, where `make venv` installs moto and boto3.
    static let python = repositoryRoot.appendingPathComponent(".venv/bin/python")

    /// The environment for helper processes: proxies are removed so that nothing they send can leave the machine,
    /// and AWS settings are removed so that boto3 uses only what the scripts pass it.
    static var helperEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { name, _ in
            let lowercased = name.lowercased()
            return !lowercased.hasSuffix("_proxy") && !name.hasPrefix("AWS_")
        }
        environment["NO_PROXY"] = "*"
        environment["PYTHONUNBUFFERED"] = "1"
        return environment
    }

    /// A fresh temporary folder.
    static func makeTemporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bottleneck-network-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A port on 127.0.0.1 that nothing listens on: bound to learn a free port, then closed.
    static func closedPort() throws -> Int {
        let socket = try ListeningSocket()
        let port = socket.port
        socket.close()
        return port
    }
}

/// A failure of the test harness itself (a helper process that would not start, a script that failed).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}
