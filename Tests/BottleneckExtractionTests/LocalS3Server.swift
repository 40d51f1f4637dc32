import Foundation
import Testing

/// moto's S3 server on 127.0.0.1 at a free port, run by the project's venv (`make venv` installs moto[server]
/// and boto3), with the buckets it was asked for. It answers one command per line on its standard input
/// (`delete-bucket NAME`) and stops when that closes, so it also stops when the test process dies.
final class LocalS3Server: @unchecked Sendable {
    static let python = ExtractionFixtures.repository.appendingPathComponent(".venv/bin/python")
    /// Under CI (`make test` installs the venv) a missing venv must fail the tests, not skip them.
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: python.path)
            || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// `http://127.0.0.1:PORT`.
    let endpoint: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the server and creates `buckets`; waits up to 60 s for it.
    init(buckets: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw Failure(description: "\(Self.python.path) is missing: run `make venv` (moto[server], boto3)")
        }
        process.executableURL = Self.python
        process.arguments = ["-c", Self.script] + buckets
        // No proxy and no AWS settings from the test's environment: the server and its client stay on 127.0.0.1.
        var environment = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.lowercased().hasSuffix("_proxy") && !name.hasPrefix("AWS_")
        }
        environment["NO_PROXY"] = "*"
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let port = Self.readLine(output.fileHandleForReading, timeout: 60), Int(port) != nil else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            throw Failure(description: "moto's server did not start (status \(process.terminationStatus)); check"
                + " that `.venv/bin/python -c 'import moto.server, boto3'` works")
        }
        endpoint = "http://127.0.0.1:\(port)"
    }

    /// The AWS variables that point the S3 client at this server.
    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
         "AWS_ENDPOINT_URL_S3": endpoint]
    }

    /// Deletes a bucket and everything in it.
    func deleteBucket(_ name: String) throws {
        input.fileHandleForWriting.write(Data("delete-bucket \(name)\n".utf8))
        guard Self.readLine(output.fileHandleForReading, timeout: 30) == "ok" else {
            throw Failure(description: "moto did not delete the bucket \(name)")
        }
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// The server's next output line, or nil when it says nothing for `timeout` seconds.
    private static func readLine(_ reader: FileHandle, timeout: TimeInterval) -> String? {
        let line = LineBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var bytes = Data()
            while let byte = try? reader.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
                bytes.append(byte)
            }
            line.set(String(decoding: bytes, as: UTF8.self))
            done.signal()
        }
        return done.wait(timeout: .now() + timeout) == .success ? line.get() : nil
    }

    private final class LineBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: String?
        func set(_ text: String) { lock.withLock { value = text } }
        func get() -> String? { lock.withLock { value } }
    }

    private static let script = #"""
        import sys
        try:
            import boto3
            from moto.server import ThreadedMotoServer
        except ImportError as error:
            print(error, file=sys.stderr)
            sys.exit(3)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        port = server.get_host_and_port()[1]
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        for name in sys.argv[1:]:
            s3.create_bucket(Bucket=name)
        print(port, flush=True)
        for line in sys.stdin:
            command, name = line.split()
            if command == "delete-bucket":
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                    for entry in page.get("Contents", []):
                        s3.delete_object(Bucket=name, Key=entry["Key"])
                s3.delete_bucket(Bucket=name)
            print("ok", flush=True)
        server.stop()
        """#
}
