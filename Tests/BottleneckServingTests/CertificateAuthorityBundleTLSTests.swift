import BottleneckNetwork
import Foundation
import Testing

/// An https server on 127.0.0.1 with a self-signed certificate: trusted through the configured bundle, refused
/// through the system's.
@Suite(.enabled(if: LoopbackImageServer.isAvailable, Comment(rawValue: LoopbackImageServer.unavailable)))
struct CertificateAuthorityBundleTLSTests {
    /// A self-signed P-256 certificate for IP 127.0.0.1, made by the openssl command-line tool.
    static func makeCertificate(in folder: URL) throws -> (certificate: URL, key: URL) {
        let (certificate, key) = (folder.appendingPathComponent("cert.pem"), folder.appendingPathComponent("key.pem"))
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key.path, "-out", certificate.path, "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else {
            throw TestFailure("openssl failed (status \(openssl.terminationStatus)) to make a test certificate: "
                + "install the openssl package.")
        }
        return (certificate, key)
    }

    @Test func httpsIsVerifiedAgainstTheConfiguredBundle() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-tls-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tls = try Self.makeCertificate(in: folder)
        let server = try LoopbackImageServer(tls: tls)
        defer { server.stop() }
        let url = try server.serve([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], as: "tiny.png")
        #expect(url.hasPrefix("https://127.0.0.1:"))

        let trusting = try HTTPClient(configuration: .init(certificateAuthorityBundle: tls.certificate.path))
        let response = try trusting.send(HTTPRequest(method: .get, url: url))
        #expect(response.statusCode == 200)
        #expect(response.body.count == 8)

        let systemBundle = HTTPClient.Configuration.defaultCertificateAuthorityBundle()
        let error = try #require(throws: NetworkError.self) {
            try HTTPClient(configuration: .init(certificateAuthorityBundle: systemBundle))
                .send(HTTPRequest(method: .get, url: url))
        }
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains("SSL_CERT_FILE"), "\(error)")
    }
}
