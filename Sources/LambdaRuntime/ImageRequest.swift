import Foundation

/// What a caller asks an image function for: images by URL, or one image's bytes, and how many classes to return.
///
/// Accepted forms (the same JSON for direct invocations and HTTP bodies):
/// - `{"url": "https://..."}` or `{"urls": ["https://...", ...]}`, optionally with `"top": 3`;
/// - `{"image": "<base64 of the image file>"}`;
/// - an HTTP body of raw image bytes: binary (`isBase64Encoded: true`, which API Gateway and Function URLs use
///   for non-text content types), or the image's base64 as a text body.
///
/// For HTTP events `top` may also come from the query string (`?top=3`); the JSON field wins. A request without
/// a body may give its one URL in the query (`GET /?url=https://...&top=3`).
public struct ImageRequest: Sendable, Equatable {
    /// Which images to classify.
    public enum Images: Sendable, Equatable {
        /// One URL to fetch (`url`, or `?url=`): its failure is the request's failure.
        case url(String)
        /// URLs to fetch (`urls`, even with one element), in the caller's order: each fails on its own.
        case urls([String])
        /// The bytes of one image file.
        case bytes(Data)
    }

    /// The bounds a request must respect.
    public struct Limits: Sendable {
        /// The most URLs in one `urls` request. Default 10.
        public var maxURLs: Int
        /// The largest image accepted in the event. Default 6 MiB, Lambda's synchronous payload limit.
        public var maxImageBytes: Int
        /// The accepted values of `top`. Default 1...100.
        public var topRange: ClosedRange<Int>

        /// Creates limits.
        public init(maxURLs: Int = 10, maxImageBytes: Int = 6 << 20, topRange: ClosedRange<Int> = 1...100) {
            precondition(maxURLs >= 1 && maxImageBytes >= 1 && topRange.lowerBound >= 1,
                         "ImageRequest limits must be positive")
            self.maxURLs = maxURLs
            self.maxImageBytes = maxImageBytes
            self.topRange = topRange
        }
    }

    /// The images.
    public var images: Images
    /// How many classes the caller wants, when given (already checked against `Limits.topRange`).
    public var top: Int?

    /// Creates a request.
    public init(images: Images, top: Int? = nil) {
        self.images = images
        self.top = top
    }

    /// Reads the request inside `event`.
    /// - Throws: `LambdaRuntimeError(.invalidEvent)` for an empty or undecodable body, malformed JSON, a request
    ///   without exactly one of `url`, `urls`, `image`, an empty or over-long URL list, or a `top` outside the
    ///   limits; `.payloadTooLarge` for an image over `limits.maxImageBytes`.
    public init(event: LambdaEvent, limits: Limits = Limits()) throws(LambdaRuntimeError) {
        var queryTop: Int?
        if let text = event.queryParameters["top"] {
            guard let value = Int(text) else {
                throw LambdaRuntimeError(.invalidEvent, "The query parameter top=\(text.prefix(40)) is not an "
                    + "integer; pass a number of classes between \(limits.topRange.lowerBound) and "
                    + "\(limits.topRange.upperBound).")
            }
            queryTop = value
        }
        let body = event.body
        if body.isEmpty, let url = event.queryParameters["url"], !url.isEmpty {
            // GET /?url=...&top=3: the form a browser or curl sends to a Function URL.
            self.init(images: .url(url), top: queryTop)
            try validate(limits)
            return
        }
        guard !body.isEmpty else {
            throw LambdaRuntimeError(.invalidEvent, "The request has no body. Send JSON such as "
                + #"{"url": "https://example.com/cat.jpg"}, or the image bytes, or pass ?url=... in the query."#)
        }
        if Self.looksLikeJSON(body, event: event) {
            self = try Self.decodeJSON(body, limits: limits)
            if top == nil { top = queryTop }
        } else if event.bodyWasBase64Encoded {
            self.init(images: .bytes(body), top: queryTop)
        } else if Self.isBase64Text(body),
                  let decoded = Data(base64Encoded: body, options: .ignoreUnknownCharacters), !decoded.isEmpty {
            self.init(images: .bytes(decoded), top: queryTop)
        } else {
            throw LambdaRuntimeError(.invalidEvent, "The request body is neither JSON nor base64-encoded image bytes. "
                + #"Send {"url": "..."} with content-type application/json, or the image file itself."#)
        }
        try validate(limits)
    }

    private func validate(_ limits: Limits) throws(LambdaRuntimeError) {
        if let top, !limits.topRange.contains(top) {
            throw LambdaRuntimeError(.invalidEvent, "top=\(top) is out of range: ask for between "
                + "\(limits.topRange.lowerBound) and \(limits.topRange.upperBound) classes.")
        }
        switch images {
        case .url:
            break
        case .urls(let urls):
            guard !urls.isEmpty else {
                throw LambdaRuntimeError(.invalidEvent, #"The "urls" list is empty; give at least one image URL."#)
            }
            guard urls.count <= limits.maxURLs else {
                throw LambdaRuntimeError(.invalidEvent, "The request lists \(urls.count) URLs; at most "
                    + "\(limits.maxURLs) are accepted per call. Split it into several calls.")
            }
        case .bytes(let bytes):
            guard bytes.count <= limits.maxImageBytes else {
                throw LambdaRuntimeError(.payloadTooLarge, "The image is \(bytes.count) bytes; at most "
                    + "\(limits.maxImageBytes) are accepted in a request. Send its URL instead.")
            }
        }
    }

    /// The JSON body: `url`, `urls` or `image`, and `top`.
    private struct Body: Decodable {
        var url: String?
        var urls: [String]?
        var image: String?
        var top: Int?
    }

    private static func decodeJSON(_ body: Data, limits: Limits) throws(LambdaRuntimeError) -> ImageRequest {
        let decoded: Body
        do {
            decoded = try JSONDecoder().decode(Body.self, from: body)
        } catch let DecodingError.typeMismatch(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw LambdaRuntimeError(.invalidEvent, "The request field \"\(field)\" has the wrong type: url is a "
                + "string, urls a list of strings, image a base64 string, top an integer.")
        } catch {
            throw LambdaRuntimeError(.invalidEvent, "The request body is not a valid JSON object. Send e.g. "
                + #"{"url": "https://example.com/cat.jpg", "top": 3}."#, underlying: error)
        }
        let given = [decoded.url != nil, decoded.urls != nil, decoded.image != nil].filter { $0 }.count
        guard given == 1 else {
            throw LambdaRuntimeError(.invalidEvent, "The request must have exactly one of \"url\", \"urls\" or "
                + "\"image\" (it has \(given)).")
        }
        if let url = decoded.url { return ImageRequest(images: .url(url), top: decoded.top) }
        if let urls = decoded.urls { return ImageRequest(images: .urls(urls), top: decoded.top) }
        guard let bytes = Data(base64Encoded: decoded.image ?? "", options: .ignoreUnknownCharacters),
              !bytes.isEmpty else {
            throw LambdaRuntimeError(.invalidEvent, #"The "image" field is not base64 of an image file; encode "#
                + "the file's bytes with standard base64.")
        }
        return ImageRequest(images: .bytes(bytes), top: decoded.top)
    }

    /// A JSON body: declared as JSON, or (undeclared) starting with `{` after whitespace.
    private static func looksLikeJSON(_ body: Data, event: LambdaEvent) -> Bool {
        if let type = event.contentType, type == "application/json" || type.hasSuffix("+json") { return true }
        let first = body.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return first == UInt8(ascii: "{")
    }

    /// Whether every byte is a base64 alphabet character, padding or line break.
    private static func isBase64Text(_ body: Data) -> Bool {
        body.allSatisfy { byte in
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || [UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="), 0x0A, 0x0D].contains(byte)
        }
    }
}
