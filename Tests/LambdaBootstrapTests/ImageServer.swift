import BottleneckNetwork
import Foundation

/// An HTTP server on 127.0.0.1 (Python's http.server in the project's venv) that the bootstrap fetches images from:
///
/// - `/files/NAME`: the file NAME of the folder given at start;
/// - `/slow`: answers after 5 s (for the fetch timeout);
/// - anything else: 404;
/// - `/requests`: how many requests it has received, this one excluded.
final class ImageServer {
    /// `http://127.0.0.1:PORT`.
    let baseURL: String
    private let process: Process
    private let input: Pipe

    /// Starts the server on `folder` and waits for it to print its port.
    init(folder: URL) throws {
        guard FileManager.default.isExecutableFile(atPath: BootstrapFixtures.python.path) else {
            throw HarnessError("\(BootstrapFixtures.python.path) is missing: run `make venv`")
        }
        let scriptURL = folder.appendingPathComponent("image_server.py")
        try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = BootstrapFixtures.python
        process.arguments = [scriptURL.path, folder.path]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw HarnessError("the image server printed \(line.debugDescription) instead of its port")
        }
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// How many requests the server has received.
    func requestCount() throws -> Int {
        let response = try HTTPClient().send(HTTPRequest(method: .get, url: baseURL + "/requests"))
        return Int(String(decoding: response.body, as: UTF8.self)) ?? -1
    }

    /// Stops the server: it exits when its standard input closes.
    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private static let script = #"""
        import http.server, os, sys, threading, time

        folder = sys.argv[1]
        count = [0]
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall

            def log_message(self, format, *args):
                pass

            def reply(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/requests":
                    with lock:
                        self.reply(200, str(count[0]).encode())
                    return
                with lock:
                    count[0] += 1
                if self.path == "/slow":
                    time.sleep(5)
                    self.reply(200, b"late")
                elif self.path.startswith("/files/"):
                    path = os.path.join(folder, os.path.basename(self.path))
                    if os.path.isfile(path):
                        with open(path, "rb") as file:
                            self.reply(200, file.read())
                    else:
                        self.reply(404, b"no such file")
                else:
                    self.reply(404, b"no such path")

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.server_address[1], flush=True)
        sys.stdin.read()
        server.shutdown()
        """#
}
