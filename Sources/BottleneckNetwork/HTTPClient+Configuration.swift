import Foundation

extension HTTPClient {
    /// Decides, for each address a connection is about to be opened to, whether to allow it. The argument is the
    /// numeric IP address as text (`"93.184.216.34"`, `"2606:2800:220:1::"`; an IPv4-mapped IPv6 address arrives
    /// in its IPv4 form). Called before the socket is created, for every new connection including redirects, so
    /// a denied address never receives a packet. It runs on the thread of `send(_:)` while the client is busy: it
    /// must not use the same client.
    public typealias AddressFilter = @Sendable (_ address: String) -> Bool

    /// Limits and policies of an `HTTPClient`. Every property has a default suited to S3.
    public struct Configuration: Sendable {
        /// How long to wait for a TCP (and TLS) connection. Default 10 s.
        public var connectTimeout: Duration
        /// How long a whole transfer may take, connection included. Default 60 s.
        public var totalTimeout: Duration
        /// The largest response body accepted, in bytes. A larger Content-Length fails before the body is read;
        /// a body without one fails as soon as it grows past the limit. Default 256 MiB.
        public var maxResponseBodySize: Int
        /// How many redirects to follow (http and https only). Default 0: a 3xx is returned as the response,
        /// which is what S3 needs.
        public var maxRedirects: Int
        /// When set, called for every address before connecting; see `AddressFilter`. Default nil: all allowed.
        public var addressFilter: AddressFilter?
        /// The User-Agent header. Default "bottleneck".
        public var userAgent: String
        /// The PEM file of certificate authorities that https servers are verified against; nil leaves the choice
        /// to libcurl (its build-time path). Default: `processCertificateAuthorityBundle`.
        public var certificateAuthorityBundle: String?

        /// Creates a configuration; timeouts must be positive and counts non-negative (programmer error).
        public init(
            connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(60),
            maxResponseBodySize: Int = 256 << 20, maxRedirects: Int = 0, addressFilter: AddressFilter? = nil,
            userAgent: String = "bottleneck",
            certificateAuthorityBundle: String? = Configuration.processCertificateAuthorityBundle
        ) {
            precondition(connectTimeout > .zero && totalTimeout > .zero, "HTTP timeouts must be positive")
            precondition(maxResponseBodySize >= 0 && maxRedirects >= 0, "HTTP limits must not be negative")
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.maxResponseBodySize = maxResponseBodySize
            self.maxRedirects = maxRedirects
            self.addressFilter = addressFilter
            self.userAgent = userAgent
            self.certificateAuthorityBundle = certificateAuthorityBundle
        }

        /// Where distributions keep their CA bundle, most common first. libcurl only knows the path it was built
        /// with (Debian's `/etc/ssl/certs/ca-certificates.crt`), which Amazon Linux 2023, the Lambda
        /// `provided.al2023` runtime, lacks: it has `/etc/pki/tls/certs/ca-bundle.crt`.
        public static let knownCertificateAuthorityBundles = [
            "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu, Alpine, Arch
            "/etc/pki/tls/certs/ca-bundle.crt",  // Amazon Linux, Fedora, RHEL
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL, CentOS
            "/etc/ssl/ca-bundle.pem",  // openSUSE
            "/etc/pki/tls/cacert.pem",  // OpenELEC
            "/etc/ssl/cert.pem",  // Alpine, macOS
        ]

        /// `defaultCertificateAuthorityBundle()` of this process, worked out once, at its first use: a change of
        /// the environment or of the bundle files after that is not seen.
        public static let processCertificateAuthorityBundle = defaultCertificateAuthorityBundle()

        /// The CA bundle to use: `$SSL_CERT_FILE` or else `$CURL_CA_BUNDLE` when set (non-empty), else the first
        /// of `knownCertificateAuthorityBundles` that exists, else nil (libcurl's own default).
        /// - Parameters:
        ///   - environment: the variables to consult; default the process environment.
        ///   - fileExists: whether a path exists; default the file system.
        public static func defaultCertificateAuthorityBundle(
            environment: [String: String] = ProcessInfo.processInfo.environment,
            fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
        ) -> String? {
            for variable in ["SSL_CERT_FILE", "CURL_CA_BUNDLE"] {
                if let path = environment[variable], !path.isEmpty { return path }
            }
            return knownCertificateAuthorityBundles.first(where: fileExists)
        }
    }
}
