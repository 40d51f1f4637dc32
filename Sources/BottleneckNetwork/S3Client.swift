import Foundation

/// A small, blocking S3 client: PUT, GET, HEAD, DELETE and ListObjectsV2, signed with AWS Signature Version 4
/// by libcurl.
///
/// Addressing follows the AWS tools: with an endpoint override (`AWS_ENDPOINT_URL_S3`, e.g. a local S3-compatible
/// server) objects are at `ENDPOINT/BUCKET/KEY` (path style); otherwise at
/// `https://BUCKET.s3.REGION.amazonaws.com/KEY` (virtual-hosted style), or path style on
/// `https://s3.REGION.amazonaws.com` for bucket names that cannot be host names (dots, capitals, underscores).
/// Keys are percent-encoded per segment (`/` kept) exactly as SigV4 requires, so any UTF-8 key round-trips.
///
/// Requests that fail transiently (5xx, 429, SlowDown/Throttling, refused or broken connections, timeouts) are
/// retried per `retryPolicy`; credential problems (403), a missing bucket or object (404) and other client
/// errors are not. Errors say what to check.
///
/// Thread-safe (one transfer at a time, see `HTTPClient`); blocks the calling thread.
///
///     let s3 = try S3Client(aws: try AWSConfiguration.load(environment: ProcessInfo.processInfo.environment))
///     try s3.putObject(bucket: "features", key: "shards/0001.bin", data: shard)
///     let keys = try s3.listObjects(bucket: "features", prefix: "shards/").map(\.key)
public final class S3Client: Sendable {
    /// SHA-256 of the empty string: the payload hash of requests without a body.
    private static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// S3 error codes that mean "try again later", whatever the status.
    private static let retryableErrorCodes: Set<String> = [
        "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable",
    ]
    /// S3 error codes about the credentials or the signature (S3 sends some of them with 400, not 403).
    private static let credentialErrorCodes: Set<String> = [
        "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken",
        "TokenRefreshRequired", "InvalidSecurity",
    ]

    /// Credentials, region and endpoint.
    public let aws: AWSConfiguration
    /// How transient failures are retried.
    public let retryPolicy: RetryPolicy
    private let http: HTTPClient

    /// Creates a client.
    /// - Parameters:
    ///   - aws: credentials, region and endpoint, usually from `AWSConfiguration.load(environment:)`.
    ///   - retryPolicy: attempts and backoff for transient failures.
    ///   - http: timeouts and the largest object `getObject` accepts. Its `maxRedirects` must be 0 (programmer
    ///     error otherwise): a signed request must not be replayed to another host.
    /// - Throws: `NetworkError(.transport)` when libcurl cannot be initialised.
    public init(
        aws: AWSConfiguration, retryPolicy: RetryPolicy = RetryPolicy(),
        http: HTTPClient.Configuration = HTTPClient.Configuration()
    ) throws(NetworkError) {
        precondition(http.maxRedirects == 0, "S3Client must not follow redirects: set maxRedirects to 0")
        self.aws = aws
        self.retryPolicy = retryPolicy
        self.http = try HTTPClient(configuration: http)
    }

    // MARK: - Objects

    /// Uploads `data` as the object `key`, replacing any object there.
    /// - Returns: the new object's ETag, without quotes.
    /// - Throws: `NetworkError`: `.accessDenied`, `.noSuchBucket`, `.connectionFailed` after the retries, ...
    @discardableResult
    public func putObject(bucket: String, key: String, data: Data) throws(NetworkError) -> String {
        let response = try send(.put, bucket: bucket, key: key, body: .bytes(data), accepting: [200])
        return Self.unquoted(response.headers["ETag"] ?? "")
    }

    /// Uploads the content of `file`, streamed from disk, as the object `key`, replacing any object there.
    /// - Returns: the new object's ETag, without quotes.
    /// - Throws: `NetworkError`: `.fileAccess` when the file cannot be read, or as `putObject(bucket:key:data:)`.
    @discardableResult
    public func putObject(bucket: String, key: String, contentsOf file: URL) throws(NetworkError) -> String {
        let response = try send(.put, bucket: bucket, key: key, body: .file(file), accepting: [200])
        return Self.unquoted(response.headers["ETag"] ?? "")
    }

    /// Downloads the object `key`, or the bytes `range` of it (inclusive offsets, clipped by S3 to the object).
    /// - Throws: `NetworkError`: `.notFound` when there is no such object, `.noSuchBucket`, `.accessDenied`,
    ///   `.tooLarge` past the client's `maxResponseBodySize`, `.httpStatus` (416) for a range beyond the end, ...
    public func getObject(bucket: String, key: String, range: ClosedRange<Int>? = nil) throws(NetworkError) -> Data {
        var headers = HTTPHeaders()
        if let range {
            precondition(range.lowerBound >= 0, "byte ranges start at 0 or later")
            headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound)")
        }
        return try send(.get, bucket: bucket, key: key, headers: headers, accepting: [200, 206]).body
    }

    /// The size and ETag of the object `key`, or nil when S3 answers 404. A HEAD response has no body, so a missing
    /// bucket also gives nil; and without s3:ListBucket permission S3 answers 403 (`.accessDenied`) for a
    /// missing object.
    /// - Throws: `NetworkError`: `.accessDenied`, `.connectionFailed` after the retries, ...
    public func headObject(bucket: String, key: String) throws(NetworkError) -> S3ObjectInfo? {
        let response = try send(.head, bucket: bucket, key: key, accepting: [200, 404])
        guard response.statusCode == 200 else { return nil }
        guard let size = response.headers["Content-Length"].flatMap({ Int($0) }) else {
            throw NetworkError(.invalidResponse, "S3 HEAD s3://\(bucket)/\(key) answered without a Content-Length. "
                + "Check that the endpoint \(endpointDescription) is an S3 server.")
        }
        return S3ObjectInfo(key: key, size: size, eTag: Self.unquoted(response.headers["ETag"] ?? ""))
    }

    /// Deletes the object `key`. Deleting a missing object succeeds, as in S3.
    /// - Throws: `NetworkError`: `.accessDenied`, `.noSuchBucket`, ...
    public func deleteObject(bucket: String, key: String) throws(NetworkError) {
        _ = try send(.delete, bucket: bucket, key: key, accepting: [200, 204])
    }

    // MARK: - Listing

    /// One page of the objects whose keys start with `prefix` (ListObjectsV2, `encoding-type=url`, keys decoded).
    /// - Parameters:
    ///   - continuationToken: nil for the first page, then the previous page's `nextContinuationToken`.
    ///   - maxKeys: the page size, 1...1000 (programmer error otherwise); nil lets S3 choose (1000).
    /// - Throws: `NetworkError`: `.noSuchBucket`, `.accessDenied`, `.invalidResponse` for a malformed listing, ...
    public func listObjectsPage(
        bucket: String, prefix: String = "", continuationToken: String? = nil, maxKeys: Int? = nil
    ) throws(NetworkError) -> S3ListPage {
        var query = [("list-type", "2"), ("encoding-type", "url")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys {
            precondition((1...1000).contains(maxKeys), "maxKeys must be in 1...1000")
            query.append(("max-keys", String(maxKeys)))
        }
        let response = try send(.get, bucket: bucket, key: nil, query: query, accepting: [200])
        return try parseListing(response.body, bucket: bucket)
    }

    /// All objects whose keys start with `prefix`, following continuation tokens page by page.
    /// - Parameter pageSize: the keys per request, 1...1000; nil lets S3 choose (1000).
    /// - Throws: as `listObjectsPage`.
    public func listObjects(
        bucket: String, prefix: String = "", pageSize: Int? = nil
    ) throws(NetworkError) -> [S3ObjectInfo] {
        var objects: [S3ObjectInfo] = []
        var token: String?
        repeat {
            let page = try listObjectsPage(bucket: bucket, prefix: prefix, continuationToken: token, maxKeys: pageSize)
            objects += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return objects
    }

    // MARK: - Addressing

    /// The URL of an object as this client addresses it (see the type's documentation).
    public func objectURL(bucket: String, key: String) -> String {
        url(bucket: bucket, key: key, query: [])
    }

    private func url(bucket: String, key: String?, query: [(String, String)]) -> String {
        precondition(key.map { !$0.isEmpty } ?? true, "an S3 object key must not be empty")
        let encodedKey = key.map { AWSPercentEncoding.encode($0, keepingSlashes: true) }
        let encodedBucket = AWSPercentEncoding.encode(bucket)
        var url: String
        if let endpoint = aws.endpoint {
            url = "\(endpoint)/\(encodedBucket)" + (encodedKey.map { "/" + $0 } ?? "")
        } else {
            let domain = aws.region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            if Self.isHostCompatible(bucket) {
                url = "https://\(bucket).s3.\(aws.region).\(domain)/" + (encodedKey ?? "")
            } else {
                url = "https://s3.\(aws.region).\(domain)/\(encodedBucket)" + (encodedKey.map { "/" + $0 } ?? "")
            }
        }
        if !query.isEmpty {
            // SigV4's canonical query string: encoded names and values, sorted. libcurl 7.88 signs the query as
            // sent, so it is sent in canonical form.
            let pairs = query.map { (AWSPercentEncoding.encode($0.0), AWSPercentEncoding.encode($0.1)) }
            url += "?" + pairs.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        }
        return url
    }

    /// Whether `bucket` can be the first label of a TLS host name: 3-63 lowercase letters, digits and hyphens,
    /// starting and ending with a letter or digit (dotted names would break the wildcard certificate).
    private static func isHostCompatible(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last,
              isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private var endpointDescription: String {
        aws.endpoint.map { "at \($0)" } ?? "in region \(aws.region)"
    }

    // MARK: - Requests, retries and errors

    /// Signs and sends one request, retrying transient failures, and returns the response if its status is in
    /// `accepted`.
    private func send(
        _ method: HTTPRequest.Method, bucket: String, key: String?, query: [(String, String)] = [],
        headers extraHeaders: HTTPHeaders = HTTPHeaders(), body: HTTPRequest.Body = .empty, accepting accepted: Set<Int>
    ) throws(NetworkError) -> HTTPResponse {
        var headers = extraHeaders
        if case .empty = body {
            headers.add(name: "x-amz-content-sha256", value: Self.emptyPayloadSHA256)
        } else {
            headers.add(name: "x-amz-content-sha256", value: "UNSIGNED-PAYLOAD")
        }
        if let token = aws.credentials.sessionToken {
            headers.add(name: "x-amz-security-token", value: token)
        }
        let request = HTTPRequest(
            method: method, url: url(bucket: bucket, key: key, query: query), headers: headers, body: body,
            signing: AWSSigning(credentials: aws.credentials, region: aws.region, service: "s3"))

        var attempt = 1
        while true {
            var failure: NetworkError
            var isRetryable: Bool
            do {
                let response = try http.send(request)
                if accepted.contains(response.statusCode) { return response }
                (failure, isRetryable) = error(for: response, method: method, bucket: bucket, key: key)
            } catch {
                failure = error
                isRetryable = error.code == .connectionFailed || error.code == .timedOut
            }
            guard isRetryable, attempt < retryPolicy.maxAttempts else {
                failure.attempts = attempt
                throw failure
            }
            Thread.sleep(forTimeInterval: retryPolicy.backoffSeconds(afterAttempt: attempt))
            attempt += 1
        }
    }

    /// The typed error for an unexpected response, and whether it is worth retrying.
    private func error(
        for response: HTTPResponse, method: HTTPRequest.Method, bucket: String, key: String?
    ) -> (NetworkError, retryable: Bool) {
        let status = response.statusCode
        let target = "\(method.rawValue) s3://\(bucket)/\(key ?? "")"
        let document = XMLElementTree.parse(response.body)
        let serviceCode = document?.child("Code")?.text
        var details = "HTTP \(status)"
        if let serviceCode { details += " \(serviceCode)" }
        if let message = document?.child("Message")?.text, !message.isEmpty {
            details += ": \(message)"
        } else if document == nil && !response.body.isEmpty {
            details += ": " + String(decoding: response.body.prefix(200), as: UTF8.self)
        }
        while details.hasSuffix(".") || details.hasSuffix(" ") { details.removeLast() }
        let bucketRegion = response.headers["x-amz-bucket-region"] ?? document?.child("Region")?.text
        func failure(_ code: NetworkError.Code, _ message: String) -> NetworkError {
            NetworkError(code, message, statusCode: status, serviceCode: serviceCode)
        }

        if status >= 500 || status == 429 || serviceCode.map(Self.retryableErrorCodes.contains) == true {
            return (failure(.httpStatus, "S3 \(target) failed: \(details). S3 \(endpointDescription) is "
                + "unavailable or throttling; try again later or lower the request rate."), true)
        }
        if let bucketRegion, bucketRegion != aws.region, status == 301 || status == 400 || status == 403 {
            return (failure(.invalidConfiguration, "S3 \(target) failed: \(details). The bucket '\(bucket)' is in "
                + "region \(bucketRegion), not \(aws.region): set AWS_REGION=\(bucketRegion)."), false)
        }
        if status == 403 || serviceCode.map(Self.credentialErrorCodes.contains) == true {
            return (failure(.accessDenied, "S3 refused \(target): \(details). Check the credentials "
                + "(\(aws.credentials)) and the region (\(aws.region)): a wrong key or secret, an expired or foreign "
                + "session token, a bucket in another region or a missing permission cause this."), false)
        }
        switch (status, serviceCode) {
        case (404, "NoSuchBucket"):
            return (failure(.noSuchBucket, "S3 \(target) failed: the bucket '\(bucket)' does not exist "
                + "\(endpointDescription) (\(details)). Check the bucket name and the region or endpoint "
                + "(AWS_REGION, AWS_ENDPOINT_URL_S3)."), false)
        case (404, "NoSuchKey"),
             (404, nil) where key != nil:
            return (failure(.notFound, "S3 \(target) failed: there is no object '\(key ?? "")' in the bucket "
                + "'\(bucket)' (\(details))."), false)
        default:
            return (failure(.httpStatus, "S3 \(target) failed: \(details)."), false)
        }
    }

    /// Parses a ListObjectsV2 result.
    private func parseListing(_ body: Data, bucket: String) throws(NetworkError) -> S3ListPage {
        func malformed(_ what: String) -> NetworkError {
            NetworkError(.invalidResponse, "S3 ListObjectsV2 of the bucket '\(bucket)' \(endpointDescription) "
                + "returned \(what). Check that the endpoint is an S3 server.")
        }
        guard let root = XMLElementTree.parse(body), root.name == "ListBucketResult" else {
            throw malformed("no ListBucketResult XML document")
        }
        let isURLEncoded = root.child("EncodingType")?.text == "url"
        var objects: [S3ObjectInfo] = []
        for entry in root.children(named: "Contents") {
            guard let rawKey = entry.child("Key")?.text, let size = entry.child("Size").flatMap({ Int($0.text) }) else {
                throw malformed("an entry without Key or Size")
            }
            let key = isURLEncoded ? AWSPercentEncoding.decodeFormValue(rawKey) : rawKey
            objects.append(S3ObjectInfo(key: key, size: size, eTag: Self.unquoted(entry.child("ETag")?.text ?? "")))
        }
        guard root.child("IsTruncated")?.text == "true" else {
            return S3ListPage(objects: objects, nextContinuationToken: nil)
        }
        guard let token = root.child("NextContinuationToken")?.text, !token.isEmpty else {
            throw malformed("a truncated page without NextContinuationToken")
        }
        return S3ListPage(objects: objects, nextContinuationToken: token)
    }

    private static func unquoted(_ eTag: String) -> String {
        eTag.count >= 2 && eTag.hasPrefix("\"") && eTag.hasSuffix("\"") ? String(eTag.dropFirst().dropLast()) : eTag
    }
}
