/// The limits an `ImageFetcher` applies to every URL: the defaults suit images from untrusted callers.
public struct FetchPolicy: Sendable {
    /// The largest body accepted, in bytes; enforced while streaming, with or without Content-Length.
    /// Default 20 MiB.
    public var maxBytes: Int
    /// How many redirects are followed; one more is an error. Default 3.
    public var maxRedirects: Int
    /// How long to wait for the TCP (and TLS) connection. Default 5 s.
    public var connectTimeout: Duration
    /// How long the whole transfer may take, redirects included. Default 20 s.
    public var totalTimeout: Duration
    /// Which addresses may be connected to, checked for every connection before its socket is opened.
    /// Default `.publicOnly`.
    public var addresses: AddressPolicy

    /// A policy with the given limits (`FetchPolicy()`: the defaults); sizes and counts must not be negative and
    /// timeouts must be positive (programmer error).
    public init(
        maxBytes: Int = 20 << 20, maxRedirects: Int = 3, connectTimeout: Duration = .seconds(5),
        totalTimeout: Duration = .seconds(20), addresses: AddressPolicy = .publicOnly
    ) {
        precondition(maxBytes >= 0 && maxRedirects >= 0, "fetch limits must not be negative")
        precondition(connectTimeout > .zero && totalTimeout > .zero, "fetch timeouts must be positive")
        self.maxBytes = maxBytes
        self.maxRedirects = maxRedirects
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.addresses = addresses
    }
}
