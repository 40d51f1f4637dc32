import BottleneckImages
import BottleneckNetwork
import Foundation

/// Downloads images from http and https URLs given by untrusted callers.
///
/// Every connection, the first and each redirect's, is checked against the policy's `AddressPolicy` after DNS
/// resolution and before its socket is opened, so a refused address (loopback, private, 169.254.169.254, ...)
/// never receives a packet, and a host name that resolves to one is refused too. At most `maxRedirects` redirects
/// are followed, to http or https only; the body is cut off as soon as it passes `maxBytes`; the connect and total
/// timeouts bound the time; and the bytes must be a JPEG or PNG image, whatever the Content-Type says.
///
/// One fetcher keeps its connections for the next URL. It may be shared between threads, but it runs one transfer
/// at a time (the others wait); `fetch(_:)` blocks the calling thread.
///
///     let fetcher = try ImageFetcher()
///     let bytes = try fetcher.fetch("https://example.com/cat.jpg")
public final class ImageFetcher: Sendable {
    /// The limits applied to every URL.
    public let policy: FetchPolicy
    private let client: HTTPClient

    /// Creates a fetcher.
    /// - Throws: `ServingError(.unreachable)` when libcurl cannot be initialised.
    public init(policy: FetchPolicy = FetchPolicy()) throws(ServingError) {
        self.policy = policy
        let addresses = policy.addresses
        let configuration = HTTPClient.Configuration(
            connectTimeout: policy.connectTimeout, totalTimeout: policy.totalTimeout,
            maxResponseBodySize: policy.maxBytes, maxRedirects: policy.maxRedirects,
            addressFilter: { addresses.allows($0) })
        do {
            client = try HTTPClient(configuration: configuration)
        } catch {
            throw ServingError(.unreachable, "cannot fetch images: \(error.message)")
        }
    }

    /// Downloads the image at `url` and returns its bytes, which start like a JPEG or PNG file.
    /// - Parameter url: an absolute http or https URL.
    /// - Throws: `ServingError` of kind `.invalidURL` (malformed, another scheme, a redirect to another scheme,
    ///   too many redirects), `.refusedAddress`, `.timedOut`, `.tooLarge`, `.httpStatus` (a non-2xx final
    ///   status, in `upstreamStatus`), `.notAnImage` or `.unreachable`.
    public func fetch(_ url: String) throws(ServingError) -> Data {
        let shown = HTTPRequest.redacted(url)
        try Self.validate(url, shown: shown)
        let response: HTTPResponse
        do {
            response = try client.send(HTTPRequest(method: .get, url: url))
        } catch {
            throw failure(error, url: shown)
        }
        guard response.isSuccess else {
            throw ServingError(.httpStatus, "the image server answered \(shown) with HTTP status "
                + "\(response.statusCode) instead of the image. Check that the URL is right and publicly readable.",
                upstreamStatus: response.statusCode)
        }
        guard ImageFormat.detect(response.body.prefix(8)) != nil else {
            let content: String
            if response.body.isEmpty {
                content = "an empty body"
            } else if let name = ImageFormat.describeUnsupported(response.body.prefix(512)) {
                content = name
            } else {
                content = "bytes that are not a JPEG or PNG image (they start with "
                    + response.body.prefix(8).map { String(format: "%02X", $0) }.joined(separator: " ") + ")"
            }
            throw ServingError(.notAnImage, "\(shown) returned \(content), not a JPEG or PNG image. Pass the URL "
                + "of the image file itself.")
        }
        return response.body
    }

    /// Refuses, before any network activity, what is not an absolute http(s) URL with a host.
    private static func validate(_ url: String, shown: String) throws(ServingError) {
        if url.isEmpty {
            throw ServingError(.invalidURL, "the image URL is empty. Pass an absolute http or https URL.")
        }
        if url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.value > 0x7E }) {
            throw ServingError(.invalidURL, "the image URL \(shown.debugDescription) contains spaces, control "
                + "characters or non-ASCII characters. Percent-encode them.")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw ServingError(.invalidURL, "\(shown.debugDescription) is not an absolute URL. Pass an http or "
                + "https URL such as https://example.com/cat.jpg.")
        }
        guard scheme == "http" || scheme == "https" else {
            throw ServingError(.invalidURL, "\(shown) uses the scheme '\(scheme)'; only http and https URLs are "
                + "fetched.")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ServingError(.invalidURL, "\(shown) names no host. Pass a URL such as https://example.com/cat.jpg.")
        }
    }

    /// Which addresses `addresses` lets through, as a sentence for the refusal message.
    private static func allowedAddresses(_ addresses: AddressPolicy) -> String {
        let refused = "private, link-local (169.254.169.254 included), multicast and reserved ones are refused."
        switch addresses {
        case .publicOnly:
            return "Only public addresses are fetched: loopback, " + refused
        case .allowingLoopback:
            return "Only public and loopback addresses are fetched: " + refused
        default:
            let allowed = AddressPolicy.Category.allCases.filter { addresses.allowedCategories.contains($0) }
            return "This fetcher's address policy allows only these kinds of address: "
                + (allowed.isEmpty ? "none" : allowed.map(\.rawValue).joined(separator: ", ")) + "."
        }
    }

    /// The `ServingError` for a transfer that produced no response.
    private func failure(_ error: NetworkError, url: String) -> ServingError {
        switch error.code {
        case .addressDenied:
            return ServingError(.refusedAddress, error.message + " " + Self.allowedAddresses(policy.addresses))
        case .timedOut:
            return ServingError(.timedOut, "fetching \(url) timed out: the limits are \(policy.connectTimeout) to "
                + "connect and \(policy.totalTimeout) in total. Try again, or use a faster image host.")
        case .tooLarge:
            return ServingError(.tooLarge, "the image at \(url) is larger than the limit of \(policy.maxBytes) "
                + "bytes, so the download was stopped. Use a smaller image.")
        case .tooManyRedirects:
            return ServingError(.invalidURL, "\(url) was redirected more than \(policy.maxRedirects) times, the "
                + "limit. Pass the final URL of the image.")
        case .unsupportedProtocol:
            return ServingError(.invalidURL, "\(url) redirects to a URL that is not http or https; only http and "
                + "https are followed. Pass the URL of the image itself.")
        case .invalidURL:
            return ServingError(.invalidURL, "\(url) is not a valid URL: \(error.message)")
        default:
            return ServingError(.unreachable, "cannot fetch \(url): \(error.message)")
        }
    }
}
