import BottleneckNetwork
import Testing

/// The CA bundle HTTPClient hands to libcurl: Lambda's Amazon Linux keeps it where Debian's libcurl does not look.
@Suite struct CertificateAuthorityBundleTests {
    typealias Configuration = HTTPClient.Configuration

    @Test func environmentVariablesComeFirst() {
        let exists: (String) -> Bool = { _ in true }
        #expect(Configuration.defaultCertificateAuthorityBundle(
            environment: ["SSL_CERT_FILE": "/a.pem", "CURL_CA_BUNDLE": "/b.pem"], fileExists: exists) == "/a.pem")
        #expect(Configuration.defaultCertificateAuthorityBundle(
            environment: ["CURL_CA_BUNDLE": "/b.pem"], fileExists: exists) == "/b.pem")
        #expect(Configuration.defaultCertificateAuthorityBundle(
            environment: ["SSL_CERT_FILE": "", "CURL_CA_BUNDLE": "/b.pem"], fileExists: exists) == "/b.pem")
    }

    @Test func amazonLinuxBundleIsFoundWhereDebiansIsMissing() {
        let amazonLinux: Set = ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
        #expect(Configuration.defaultCertificateAuthorityBundle(environment: [:], fileExists: amazonLinux.contains)
            == "/etc/pki/tls/certs/ca-bundle.crt")
        let debian: Set = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        #expect(Configuration.defaultCertificateAuthorityBundle(environment: [:], fileExists: debian.contains)
            == "/etc/ssl/certs/ca-certificates.crt")
    }

    @Test func nothingFoundLeavesLibcurlsDefault() {
        #expect(Configuration.defaultCertificateAuthorityBundle(environment: [:], fileExists: { _ in false }) == nil)
        #expect(Configuration(certificateAuthorityBundle: nil).certificateAuthorityBundle == nil)
    }
}
