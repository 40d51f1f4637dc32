import Foundation

/// A Python script run by the project's venv as a server for one suite.
///
/// The script prints one line when it is ready (its port, or JSON) and runs until its standard input closes, so it
/// also stops when the test process dies. `stop()` closes standard input and waits, then terminates it.
final class PythonServer: @unchecked Sendable {
    /// What the script printed when it was ready.
    let readyLine: String
    private let process: Process
    private let input: Pipe
    private let folder: URL

    /// Writes `script` to a temporary file and runs it.
    /// - Parameter missingModuleHint: the advice when the script exits with status 3 (its `ImportError` exit).
    /// - Throws: `HarnessError` when the venv python is missing, or the script exits or stays silent for
    ///   `timeout` before printing its ready line (the message carries its stderr).
    init(script: String, name: String, timeout: TimeInterval, missingModuleHint: String) throws {
        guard FileManager.default.isExecutableFile(atPath: TestSupport.python.path) else {
            throw HarnessError(description: "\(TestSupport.python.path) is missing: run `make venv`. "
                + missingModuleHint)
        }
        folder = try TestSupport.makeTemporaryFolder()
        let scriptURL = folder.appendingPathComponent("\(name).py")
        let logURL = folder.appendingPathComponent("\(name).log")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw HarnessError(description: "cannot create \(logURL.path)")
        }

        process = Process()
        process.executableURL = TestSupport.python
        process.arguments = [scriptURL.path]
        process.environment = TestSupport.helperEnvironment
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()

        // Read the ready line on another thread so that the wait can time out.
        let line = LockedValue<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        Thread.detachNewThread {
            var bytes = Data()
            while !bytes.contains(UInt8(ascii: "\n")) {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                bytes.append(chunk)
            }
            if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                line.value = String(decoding: bytes[..<newline], as: UTF8.self)
            }
            done.signal()
        }
        let ready = done.wait(timeout: .now() + timeout) == .success
        guard ready, let readyLine = line.value else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: folder)
            if process.terminationStatus == 3 {
                let detail = log.trimmingCharacters(in: .whitespacesAndNewlines)
                throw HarnessError(description: "\(name): \(missingModuleHint) (\(detail))")
            }
            throw HarnessError(description: "\(name) did not start within \(timeout) s (status "
                + "\(process.terminationStatus)): \(log.suffix(3000))")
        }
        self.readyLine = readyLine
    }

    /// Closes the script's standard input, waits up to 5 s for it to exit, then terminates it; removes its files.
    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A value shared between threads under a lock.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        stored = value
    }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
