import Foundation

/// An event as a function sees it: which kind of caller sent it, and the HTTP request inside it, if any.
///
/// Four kinds are recognised by their fields:
/// - API Gateway REST API proxy events (payload format 1.0, `httpMethod` + `requestContext`; an HTTP API route
///   with payload 1.0 sends the same format),
/// - HTTP API events (payload 2.0, `"version": "2.0"` + `requestContext`),
/// - Function URL events (payload 2.0 whose `requestContext.domainName` is a `*.lambda-url.*` host),
/// - anything else is a direct invocation (`aws lambda invoke`, Step Functions, SDKs): the event is the request.
///
/// For HTTP events `body` is the request body with API Gateway's base64 undone (`isBase64Encoded`), header names
/// are lowercased, and query parameters are single-valued (the last value wins).
public struct LambdaEvent: Sendable, Equatable {
    /// Where an event came from.
    public enum Source: String, Sendable, Codable, CaseIterable {
        case direct
        case restAPI
        case httpAPI
        case functionURL

        /// Whether the caller expects an HTTP response document (`statusCode`, `headers`, `body`).
        public var isHTTP: Bool { self != .direct }
    }

    /// The kind of caller.
    public var source: Source
    /// The HTTP method, for HTTP events.
    public var method: String?
    /// The request path, for HTTP events.
    public var path: String?
    /// Request headers with lowercased names (empty for direct events).
    public var headers: [String: String]
    /// Query string parameters (empty for direct events).
    public var queryParameters: [String: String]
    /// The request body (base64 undone), or for a direct event the event itself.
    public var body: Data
    /// Whether API Gateway or the Function URL delivered the body base64-encoded (binary content).
    public var bodyWasBase64Encoded: Bool

    /// Creates an event from its parts.
    public init(source: Source, method: String? = nil, path: String? = nil, headers: [String: String] = [:],
                queryParameters: [String: String] = [:], body: Data, bodyWasBase64Encoded: Bool = false) {
        self.source = source
        self.method = method
        self.path = path
        self.headers = headers
        self.queryParameters = queryParameters
        self.body = body
        self.bodyWasBase64Encoded = bodyWasBase64Encoded
    }

    /// Decodes an event as delivered by the Runtime API.
    /// - Throws: `LambdaRuntimeError(.invalidEvent)` when an HTTP event's fields have the wrong types or its
    ///   base64 body does not decode. A direct event is accepted as is (its content is the handler's business).
    public init(decoding event: Data) throws(LambdaRuntimeError) {
        // One parse: the envelope reads the discriminating fields leniently and the rest only for an HTTP event.
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: event)
        } catch let error as Envelope.InvalidField {
            throw LambdaRuntimeError(.invalidEvent, "The API Gateway event has a field of the wrong type "
                + "(\(error.underlying)). Check the integration's payload format version (1.0 or 2.0).",
                underlying: error.underlying)
        } catch {
            // Not a JSON object (or not JSON): a direct invocation whose payload is the request itself.
            self.init(source: .direct, body: event)
            return
        }
        guard let context = envelope.requestContext else {
            self.init(source: .direct, body: event)
            return
        }
        let source: Source
        if envelope.version == "2.0" {
            source = (context.domainName ?? "").contains(".lambda-url.") ? .functionURL : .httpAPI
        } else {
            source = .restAPI
        }

        var body = Data((envelope.body ?? "").utf8)
        let base64 = envelope.isBase64Encoded ?? false
        if base64 {
            guard let decoded = Data(base64Encoded: envelope.body ?? "") else {
                throw LambdaRuntimeError(.invalidEvent, "The \(source.rawValue) event says its body is "
                    + "base64-encoded, but it is not valid base64. Send the body unchanged and let API Gateway "
                    + "encode it.")
            }
            body = decoded
        }
        var headers: [String: String] = [:]
        for (name, value) in envelope.headers ?? [:] { headers[name.lowercased()] = value }
        var query: [String: String] = [:]
        if let raw = envelope.rawQueryString, !raw.isEmpty {
            for (name, value) in Self.parseQuery(raw) { query[name] = value }
        } else {
            for (name, value) in envelope.queryStringParameters ?? [:] { query[name] = value }
        }
        self.init(source: source, method: envelope.httpMethod ?? context.http?.method,
                  path: envelope.rawPath ?? envelope.path ?? context.http?.path, headers: headers,
                  queryParameters: query, body: body, bodyWasBase64Encoded: base64)
    }

    /// The media type of an HTTP body (`content-type` without parameters, lowercased), if sent.
    public var contentType: String? {
        guard let value = headers["content-type"] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? value
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// `a=1&b=x%20y` as pairs, percent-decoded (`+` as space, as HTML forms send it).
    static func parseQuery(_ query: String) -> [(String, String)] {
        query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), !name.isEmpty else { return nil }
            return (name, parts.count > 1 ? decode(parts[1]) ?? "" : "")
        }
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The fields of the API Gateway and Function URL payloads that the decoding reads; the rest is ignored.
    ///
    /// Only a JSON object with a `requestContext` object and a string `httpMethod` (1.0) or `"version": "2.0"` is
    /// an HTTP event: for anything else every field stays nil (`requestContext` nil marks a direct event). The
    /// fields of an HTTP event must have their documented types, or decoding throws `InvalidField`.
    private struct Envelope: Decodable {
        /// An HTTP event's field has the wrong type.
        struct InvalidField: Error {
            var underlying: any Error
        }
        struct RequestContext: Decodable {
            struct HTTP: Decodable {
                var method: String?
                var path: String?
            }
            var domainName: String?
            var http: HTTP?
        }
        var version: String?
        var httpMethod: String?
        var path: String?
        var rawPath: String?
        var rawQueryString: String?
        var headers: [String: String]?
        var queryStringParameters: [String: String]?
        var requestContext: RequestContext?
        var body: String?
        var isBase64Encoded: Bool?

        private enum CodingKeys: String, CodingKey {
            case version, httpMethod, path, rawPath, rawQueryString, headers, queryStringParameters, requestContext,
                 body, isBase64Encoded
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let isHTTP = (try? container.nestedContainer(keyedBy: CodingKeys.self, forKey: .requestContext)) != nil
                && ((try? container.decodeIfPresent(String.self, forKey: .version)) == "2.0"
                    || (try? container.decodeIfPresent(String.self, forKey: .httpMethod)) != nil)
            guard isHTTP else { return }
            do {
                version = try container.decodeIfPresent(String.self, forKey: .version)
                httpMethod = try container.decodeIfPresent(String.self, forKey: .httpMethod)
                path = try container.decodeIfPresent(String.self, forKey: .path)
                rawPath = try container.decodeIfPresent(String.self, forKey: .rawPath)
                rawQueryString = try container.decodeIfPresent(String.self, forKey: .rawQueryString)
                headers = try container.decodeIfPresent([String: String].self, forKey: .headers)
                queryStringParameters = try container.decodeIfPresent([String: String].self,
                                                                      forKey: .queryStringParameters)
                requestContext = try container.decode(RequestContext.self, forKey: .requestContext)
                body = try container.decodeIfPresent(String.self, forKey: .body)
                isBase64Encoded = try container.decodeIfPresent(Bool.self, forKey: .isBase64Encoded)
            } catch {
                throw InvalidField(underlying: error)
            }
        }
    }
}
