import Foundation

/// A threaded HTTP/1.1 server (Python's http.server from the project's .venv) on 127.0.0.1 with scripted
/// behaviours, started per test and stopped by `stop()` (or when the test process dies: it exits when its standard
/// input closes).
///
/// - `/files/NAME`: the file NAME of `folder`, with Content-Length (Content-Type application/octet-stream, so
///   only the bytes can say what it is); 404 with an HTML page when missing.
/// - `/redirect/N/NAME`: N redirects (relative Location), then `/files/NAME`.
/// - `/redirect-to?location=URL`: one redirect to URL.
/// - `/slow/S`: waits S seconds before answering with a PNG signature.
/// - `/bytes/N`: N bytes starting with the PNG signature, with Content-Length.
/// - `/endless`: a chunked body (no Content-Length) starting with the PNG signature, up to 1 GiB.
/// - `/status/N`: status N with a small HTML page.
///
/// With a certificate and key it serves https instead of http.
final class LoopbackImageServer {
    /// The project's Python (`make venv`).
    static let python = TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python")
    /// Under CI (`make test` installs the venv) a missing python fails the tests instead of disabling them.
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: python.path) || isCI }
    static let unavailable = "needs .venv/bin/python (make venv) for the loopback HTTP server"

    /// The port on 127.0.0.1.
    let port: Int
    /// The folder served under `/files/`.
    let folder: URL
    /// `http` or `https`.
    let scheme: String
    private let process: Process
    private let input: Pipe

    /// `http://127.0.0.1:PORT` (or https).
    var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    /// Starts the server on a fresh temporary folder and waits (up to 30 s) until it listens.
    /// - Parameter tls: PEM files of the certificate and its private key, to serve https.
    init(tls: (certificate: URL, key: URL)? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw TestFailure("\(Self.python.path) is missing: run `make venv`.")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-serving-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = Self.python
        process.arguments = ["-c", Self.script, folder.path] + (tls.map { [$0.certificate.path, $0.key.path] } ?? [])
        scheme = tls == nil ? "http" : "https"
        // No proxy settings reach the server's environment: nothing it does leaves the machine.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()

        let line = Locked<String?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        Thread.detachNewThread {
            var bytes = Data()
            while !bytes.contains(UInt8(ascii: "\n")) {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                bytes.append(chunk)
            }
            line.value = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            ready.signal()
        }
        guard ready.wait(timeout: .now() + 30) == .success, let text = line.value, let port = Int(text) else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            throw TestFailure("the loopback HTTP server did not start within 30 s (status "
                + "\(process.terminationStatus)); see its stderr above.")
        }
        self.port = port
    }

    /// Writes `bytes` as `/files/NAME` and returns the file's URL.
    @discardableResult
    func serve(_ bytes: some Sequence<UInt8>, as name: String) throws -> String {
        try Data(bytes).write(to: folder.appendingPathComponent(name))
        return "\(baseURL)/files/\(name)"
    }

    /// Closes the server's standard input, waits up to 5 s, then terminates it; removes its folder.
    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }

    private static let script = #"""
        import http.server, os, ssl, sys, threading, time
        from urllib.parse import parse_qs, urlsplit

        folder = sys.argv[1]
        PNG = b"\x89PNG\r\n\x1a\n"

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlsplit(self.path)
                parts = url.path.split("/")[1:]
                kind = parts[0] if parts else ""
                html = [("Content-Type", "text/html")]
                try:
                    if kind == "files":
                        path = os.path.join(folder, os.path.basename(parts[1]))
                        if not os.path.isfile(path):
                            self.reply(404, b"<!doctype html><title>Not found</title>", html)
                            return
                        with open(path, "rb") as file:
                            self.reply(200, file.read(), [("Content-Type", "application/octet-stream")])
                    elif kind == "redirect":
                        hops, name = int(parts[1]), parts[2]
                        location = f"/redirect/{hops - 1}/{name}" if hops > 1 else f"/files/{name}"
                        self.reply(302, b"", [("Location", location)])
                    elif kind == "redirect-to":
                        self.reply(302, b"", [("Location", parse_qs(url.query)["location"][0])])
                    elif kind == "slow":
                        time.sleep(float(parts[1]))
                        self.reply(200, PNG)
                    elif kind == "bytes":
                        size = int(parts[1])
                        self.reply(200, (PNG + bytes(size))[:size])
                    elif kind == "endless":
                        self.send_response(200)
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        chunk = PNG + bytes(65536 - len(PNG))
                        for _ in range(16384):
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    elif kind == "status":
                        self.reply(int(parts[1]), b"<!doctype html><title>Status</title>", html)
                    else:
                        self.reply(404, b"unknown path")
                except OSError:
                    self.close_connection = True

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if len(sys.argv) > 2:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[2], sys.argv[3])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.server_address[1], flush=True)
        sys.stdin.read()
        server.shutdown()
        """#
}
