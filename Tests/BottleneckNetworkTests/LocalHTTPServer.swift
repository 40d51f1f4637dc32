import BottleneckNetwork
import Foundation
import Testing

/// A small threaded HTTP/1.1 server (Python's http.server) on 127.0.0.1 with scripted behaviours, one per suite
/// that declares `.localHTTPServer`:
///
/// - `/echo...`: JSON with the method, path, lowercased headers, body length and SHA-256, and the peer's port.
/// - `/bytes/N`: N bytes (with Content-Length); `/endless`: a chunked body of up to 1 GiB.
/// - `/redirect/N`: N redirects, then "arrived"; `/redirect-to?location=URL`: one redirect to URL.
/// - S3-like `/BUCKET/KEY`: bucket `flaky` answers 503 twice per key, then "recovered"; `throttled` always
///   503 SlowDown; `dropped` closes the first connection per key without answering; `denied` always 403.
/// - `/count/PATH`: how many requests PATH received.
final class LocalHTTPServer: Sendable {
    /// The server of the running suite.
    @TaskLocal static var current: LocalHTTPServer?

    /// The port on 127.0.0.1.
    let port: Int
    private let process: PythonServer

    /// `http://127.0.0.1:PORT`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(process: PythonServer, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts the server and waits until it listens.
    static func start() throws -> LocalHTTPServer {
        let process = try PythonServer(script: script, name: "local-http-server", timeout: 30,
                                       missingModuleHint: "the Python standard library is incomplete")
        guard let port = Int(process.readyLine) else {
            process.stop()
            throw HarnessError(description: "local-http-server printed \(process.readyLine.debugDescription), "
                + "not a port")
        }
        return LocalHTTPServer(process: process, port: port)
    }

    /// How many requests `path` has received so far.
    func requestCount(of path: String) throws -> Int {
        let response = try HTTPClient().send(HTTPRequest(method: .get, url: baseURL + "/count" + path))
        return Int(String(decoding: response.body, as: UTF8.self)) ?? -1
    }

    func stop() {
        process.stop()
    }

    /// Runs a suite with one server, stopped when the suite ends.
    struct Scope: SuiteTrait, TestScoping {
        func provideScope(
            for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
        ) async throws {
            let server = try LocalHTTPServer.start()
            defer { server.stop() }
            try await LocalHTTPServer.$current.withValue(server) { try await function() }
        }
    }

    private static let script = #"""
        import hashlib, http.server, json, socket, sys, threading
        from urllib.parse import parse_qs, urlsplit

        counts = {}
        lock = threading.Lock()

        def s3_error(code, message):
            return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f'<Message>{message}</Message><RequestId>local</RequestId></Error>').encode()

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
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_request(self):
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    counts[url.path] = counts.get(url.path, 0) + 1
                    seen = counts[url.path]
                parts = url.path.split("/")
                kind = parts[1] if len(parts) > 1 else ""
                if kind == "echo":
                    info = {"method": self.command, "path": self.path, "bodyLength": len(body),
                            "headers": {name.lower(): value for name, value in self.headers.items()},
                            "bodySHA256": hashlib.sha256(body).hexdigest(), "peerPort": self.client_address[1]}
                    self.reply(200, json.dumps(info).encode(),
                               [("Content-Type", "application/json"), ("X-Echo", "yes")])
                elif kind == "count":
                    self.reply(200, str(counts.get("/" + "/".join(parts[2:]), 0)).encode())
                elif kind == "bytes":
                    size = int(parts[2])
                    self.reply(200, (bytes(range(256)) * (size // 256 + 1))[:size])
                elif kind == "endless":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"x" * 65536
                    try:
                        for _ in range(16384):
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        self.close_connection = True
                elif kind == "redirect":
                    hops = int(parts[2])
                    if hops == 0:
                        self.reply(200, b"arrived")
                    else:
                        self.reply(302, b"", [("Location", f"/redirect/{hops - 1}")])
                elif kind == "redirect-to":
                    self.reply(302, b"", [("Location", query["location"][0])])
                elif kind == "flaky":
                    if seen <= 2:
                        self.reply(503, s3_error("ServiceUnavailable", "Please reduce your request rate."))
                    else:
                        self.reply(200, b"recovered", [("ETag", '"0123"')])
                elif kind == "throttled":
                    self.reply(503, s3_error("SlowDown", "Please reduce your request rate."))
                elif kind == "dropped":
                    if seen <= 1:
                        self.close_connection = True
                        return
                    self.reply(200, b"recovered")
                elif kind == "denied":
                    self.reply(403, s3_error("AccessDenied", "Access Denied"))
                else:
                    self.reply(404, b"unknown path")

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_request

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(server.server_address[1], flush=True)
        sys.stdin.read()
        server.shutdown()
        """#
}

extension Trait where Self == LocalHTTPServer.Scope {
    /// Starts a `LocalHTTPServer` for the suite; tests reach it as `LocalHTTPServer.current`.
    static var localHTTPServer: Self { Self() }
}
