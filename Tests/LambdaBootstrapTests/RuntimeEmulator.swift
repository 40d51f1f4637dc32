import BottleneckNetwork
import Foundation
import Glibc

/// The AWS Lambda Runtime Interface Emulator running the built `bootstrap`, on free ports of 127.0.0.1.
///
/// The emulator starts the bootstrap on the first invocation (as Lambda does on a cold start) and passes its own
/// environment on; the bootstrap's log lines arrive on the emulator's standard output, collected in a file.
final class RuntimeEmulator {
    /// `http://127.0.0.1:PORT/2015-03-31/functions/function/invocations`.
    let invocationURL: String
    private let process: Process
    private let folder: URL
    private let logURL: URL
    private let client: HTTPClient

    /// Starts the emulator with `environment` added to a clean one (no proxies, no AWS credentials) and waits
    /// until it accepts connections.
    init(environment: [String: String]) throws {
        let port = try BootstrapFixtures.freePort()
        let runtimeAPIPort = try BootstrapFixtures.freePort()
        invocationURL = "http://127.0.0.1:\(port)/2015-03-31/functions/function/invocations"
        folder = try BootstrapFixtures.makeTemporaryFolder()
        logURL = folder.appendingPathComponent("emulator.log")
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw HarnessError("cannot create \(logURL.path)")
        }
        guard FileManager.default.isExecutableFile(atPath: BootstrapFixtures.emulator.path) else {
            throw HarnessError("\(BootstrapFixtures.emulator.path) is missing: run `make rie`")
        }
        var base = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.lowercased().hasSuffix("_proxy") && !name.hasPrefix("AWS_") && !name.hasPrefix("BOTTLENECK_")
                && name != "LAMBDA_TASK_ROOT"
        }
        base["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "60"
        process = Process()
        process.executableURL = BootstrapFixtures.emulator
        process.arguments = ["--runtime-interface-emulator-address", "127.0.0.1:\(port)",
                             "--runtime-api-address", "127.0.0.1:\(runtimeAPIPort)", BootstrapFixtures.bootstrap.path]
        process.environment = base.merging(environment) { $1 }
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        client = try HTTPClient(configuration: .init(connectTimeout: .seconds(5), totalTimeout: .seconds(120)))
        try process.run()
        try waitForListener(port: port)
    }

    /// Posts `payload` as an invocation and returns the emulator's status and body.
    func invoke(_ payload: Data) throws -> HTTPResponse {
        var request = HTTPRequest(method: .post, url: invocationURL, body: .bytes(payload))
        request.headers.add(name: "Content-Type", value: "application/json")
        return try client.send(request)
    }

    /// Posts `json` as an invocation.
    func invoke(json: String) throws -> HTTPResponse {
        try invoke(Data(json.utf8))
    }

    /// Everything the emulator and the bootstrap wrote so far.
    var log: String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// The bootstrap's JSON log lines (the emulator's own lines are not JSON objects with a "level").
    var bootstrapLogLines: [[String: Any]] {
        log.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{") else { return nil }
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["level"] == nil ? nil : object
        }
    }

    /// The bootstrap's peak resident memory (VmHWM) in KiB, while it runs.
    func bootstrapPeakResidentKiB() -> Int? {
        let children = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/"
            + "\(process.processIdentifier)/children", encoding: .utf8)) ?? ""
        let taskFolder = "/proc/\(process.processIdentifier)/task"
        var pids = children.split(separator: " ").compactMap { Int($0) }
        for task in (try? FileManager.default.contentsOfDirectory(atPath: taskFolder)) ?? [] {
            let more = (try? String(contentsOfFile: "\(taskFolder)/\(task)/children", encoding: .utf8)) ?? ""
            pids += more.split(separator: " ").compactMap { Int($0) }
        }
        for pid in Set(pids) {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  status.contains(BootstrapFixtures.bootstrap.lastPathComponent),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { continue }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }

    /// Stops the emulator (and with it the bootstrap) and removes its files.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }

    deinit {
        stop()
    }

    private func waitForListener(port: Int) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else {
                throw HarnessError("the emulator exited with status \(process.terminationStatus): \(log)")
            }
            if Self.accepts(port: port) { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw HarnessError("the emulator did not listen on 127.0.0.1:\(port) within 10 s: \(log)")
    }

    private static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
