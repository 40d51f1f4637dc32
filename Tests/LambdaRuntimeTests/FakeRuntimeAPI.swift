import BottleneckNetwork
import Foundation

/// A scripted stand-in for the Lambda Runtime API on 127.0.0.1 (Python's http.server in the project's venv), for
/// the client's failure paths that the real emulator cannot produce.
///
/// `GET /2018-06-01/runtime/invocation/next`, call by call: 1st drops the connection without answering; 2nd an
/// event `{"n": 1}` with request id `req-1`, a deadline, an ARN and a trace id; 3rd `{"n": 2}` as `req-2` without a
/// trace id; 4th `{"n": 3}` as `big` (whose response post gets 413); then 500. Posts to `.../response`,
/// `.../error` and `/init/error` answer 202 (or 413 for `big`) and are recorded; `GET /recorded` returns them as
/// JSON `[{"path", "errorType", "body"}]`.
final class FakeRuntimeAPI {
    static let python = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python")

    /// `127.0.0.1:PORT`, as in `AWS_LAMBDA_RUNTIME_API`.
    let endpoint: String
    private let process = Process()
    private let input = Pipe()

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            throw FakeServerError(description: "\(Self.python.path) is missing: run `make venv`")
        }
        process.executableURL = Self.python
        process.arguments = ["-c", Self.script]
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw FakeServerError(description: "the fake Runtime API printed \(line.debugDescription), not a port")
        }
        endpoint = "127.0.0.1:\(port)"
    }

    /// The posts received so far.
    func recorded() throws -> [[String: String]] {
        let response = try HTTPClient().send(HTTPRequest(method: .get, url: "http://\(endpoint)/recorded"))
        return try JSONDecoder().decode([[String: String]].self, from: response.body)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private static let script = #"""
        import http.server, json, sys, threading, time

        calls = [0]
        recorded = []
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

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
                if self.path == "/recorded":
                    with lock:
                        self.reply(200, json.dumps(recorded).encode())
                    return
                with lock:
                    calls[0] += 1
                    call = calls[0]
                deadline = str(int(time.time() * 1000) + 30000)
                arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
                if call == 1:
                    self.close_connection = True
                    self.connection.shutdown(2)
                elif call == 2:
                    self.reply(200, b'{"n": 1}', [("Lambda-Runtime-Aws-Request-Id", "req-1"),
                        ("Lambda-Runtime-Deadline-Ms", deadline), ("Lambda-Runtime-Invoked-Function-Arn", arn),
                        ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")])
                elif call == 3:
                    self.reply(200, b'{"n": 2}', [("Lambda-Runtime-Aws-Request-Id", "req-2"),
                        ("Lambda-Runtime-Deadline-Ms", deadline), ("Lambda-Runtime-Invoked-Function-Arn", arn)])
                elif call == 4:
                    self.reply(200, b'{"n": 3}', [("Lambda-Runtime-Aws-Request-Id", "big"),
                        ("Lambda-Runtime-Deadline-Ms", deadline)])
                else:
                    self.reply(500, b'{"errorMessage": "internal", "errorType": "ServiceException"}')

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with lock:
                    recorded.append({"path": self.path, "body": body,
                                     "errorType": self.headers.get("Lambda-Runtime-Function-Error-Type", "")})
                if "/big/" in self.path:
                    self.reply(413, b'{"errorMessage": "too large", "errorType": "RequestEntityTooLarge"}')
                else:
                    self.reply(202, b'{"status": "OK"}')

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.server_address[1], flush=True)
        sys.stdin.read()
        server.shutdown()
        """#
}

struct FakeServerError: Error, CustomStringConvertible {
    let description: String
}
