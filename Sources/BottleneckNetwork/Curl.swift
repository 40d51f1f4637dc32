import CCurlShim
import Foundation

/// A libcurl easy handle that runs one `HTTPRequest` at a time and keeps its connections for the next one.
///
/// This is the only file that imports CCurlShim: every libcurl call, callback and C type stays here, and every
/// libcurl return code is checked and turned into a `NetworkError`. Not thread-safe: `HTTPClient` serialises the
/// calls to `perform`.
final class CurlEasy {
    /// libcurl's process-wide setup, run once (lazily, thread-safely) before the first handle: nil, or what failed.
    private static let globalInitializationFailure: String? = {
        let code = ccurl_global_init()
        return code == CURLE_OK ? nil : CurlEasy.text(of: code)
    }()

    private let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl writes a detailed message here when a transfer fails.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Creates the easy handle.
    /// - Throws: `NetworkError(.transport)` when libcurl cannot be initialised.
    init() throws(NetworkError) {
        if let failure = Self.globalInitializationFailure {
            throw NetworkError(.transport, "libcurl could not be initialised: \(failure). "
                + "Check the libcurl installation.")
        }
        guard let handle = curl_easy_init() else {
            throw NetworkError(.transport, "libcurl could not create a transfer handle; the process may be out "
                + "of memory.")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Runs `request` to completion and returns the final response.
    /// - Throws: `NetworkError` when no complete response arrived; see `HTTPClient.send(_:)`.
    func perform(_ request: HTTPRequest, configuration: HTTPClient.Configuration) throws(NetworkError) -> HTTPResponse {
        let transfer = try Transfer(request: request, configuration: configuration)
        // "Name;" is libcurl's way to send a header with an empty value ("Name:" would remove the header).
        let headerList = try CurlStringList(request.headers.map {
            $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)"
        })
        // Afterwards reset every option, so that the handle keeps no pointer to this transfer's state; live
        // connections and the DNS and TLS session caches stay for the next request.
        defer { curl_easy_reset(handle) }
        errorBuffer[0] = 0
        try configure(for: request, configuration: configuration, transfer: transfer, headerList: headerList)

        let code = withExtendedLifetime((transfer, headerList)) { curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            throw failure(code, request: request, configuration: configuration, transfer: transfer)
        }
        var statusCode = 0
        try check(ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &statusCode), "reading the status of", request)
        return HTTPResponse(statusCode: statusCode, headers: transfer.responseHeaders, body: transfer.body)
    }

    // MARK: - Options

    private func configure(
        for request: HTTPRequest, configuration: HTTPClient.Configuration, transfer: Transfer,
        headerList: CurlStringList
    ) throws(NetworkError) {
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer), request)
        try set(CURLOPT_URL, string: request.url, request)
        try set(CURLOPT_NOSIGNAL, long: 1, request)  // no SIGALRM for DNS timeouts: safe in multithreaded processes
        try set(CURLOPT_PROXY, string: "", request)  // "" ignores http_proxy & co: the filter must see the real peer
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https", request)
        try set(CURLOPT_REDIR_PROTOCOLS_STR, string: "http,https", request)
        try set(CURLOPT_CONNECTTIMEOUT_MS, long: Self.milliseconds(configuration.connectTimeout), request)
        try set(CURLOPT_TIMEOUT_MS, long: Self.milliseconds(configuration.totalTimeout), request)
        try set(CURLOPT_USERAGENT, string: configuration.userAgent, request)
        if let bundle = configuration.certificateAuthorityBundle {
            try set(CURLOPT_CAINFO, string: bundle, request)
        }
        // Send the path exactly as given: S3 keys may contain "./" and "../" segments, and the path is signed.
        try set(CURLOPT_PATH_AS_IS, long: 1, request)
        if configuration.maxRedirects > 0 {
            try set(CURLOPT_FOLLOWLOCATION, long: 1, request)
            try set(CURLOPT_MAXREDIRS, long: configuration.maxRedirects, request)
        }

        try check(ccurl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, context in
            Transfer.from(context).receiveBody(buffer, byteCount: size * count)
        }, "setting the write callback of", request)
        try set(CURLOPT_WRITEDATA, pointer: context, request)
        try check(ccurl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { buffer, size, count, context in
            Transfer.from(context).receiveHeaderLine(buffer, byteCount: size * count)
        }, "setting the header callback of", request)
        try set(CURLOPT_HEADERDATA, pointer: context, request)
        // HEAD is excluded: libcurl would reject a large object's Content-Length although no body follows.
        if configuration.maxResponseBodySize > 0 && request.method != .head {
            try set(CURLOPT_MAXFILESIZE_LARGE, offset: Int64(configuration.maxResponseBodySize), request)
        }

        switch request.method {
        case .get: try set(CURLOPT_HTTPGET, long: 1, request)
        case .head: try set(CURLOPT_NOBODY, long: 1, request)
        case .delete: try set(CURLOPT_CUSTOMREQUEST, string: "DELETE", request)
        case .put:
            try set(CURLOPT_UPLOAD, long: 1, request)
            try set(CURLOPT_INFILESIZE_LARGE, offset: transfer.uploadSize, request)
        case .post:
            try set(CURLOPT_POST, long: 1, request)
            try set(CURLOPT_POSTFIELDSIZE_LARGE, offset: transfer.uploadSize, request)
        }
        if request.method == .put || request.method == .post {
            try check(ccurl_setopt_read_function(handle) { buffer, size, count, context in
                Transfer.from(context).sendBody(into: buffer, capacity: size * count)
            }, "setting the read callback of", request)
            try set(CURLOPT_READDATA, pointer: context, request)
            try check(ccurl_setopt_seek_function(handle) { context, offset, origin in
                Transfer.from(context).rewindBody(to: offset, origin: origin)
            }, "setting the seek callback of", request)
            try set(CURLOPT_SEEKDATA, pointer: context, request)
        }

        if let list = headerList.pointer {
            try set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(list), request)
        }
        if let signing = request.signing {
            try set(CURLOPT_AWS_SIGV4, string: signing.curlParameter, request)
            try set(CURLOPT_USERNAME, string: signing.credentials.accessKeyID, request)
            try set(CURLOPT_PASSWORD, string: signing.credentials.secretAccessKey, request)
        }
        if transfer.addressFilter != nil {
            try check(ccurl_setopt_opensocket_function(handle) { context, _, address in
                Transfer.from(context).openSocket(address)
            }, "setting the address filter of", request)
            try set(CURLOPT_OPENSOCKETDATA, pointer: context, request)
        }
    }

    private func set(_ option: CURLoption, long value: Int, _ request: HTTPRequest) throws(NetworkError) {
        try check(ccurl_setopt_long(handle, option, value), "setting \(Self.name(of: option)) for", request)
    }

    private func set(_ option: CURLoption, offset value: Int64, _ request: HTTPRequest) throws(NetworkError) {
        try check(ccurl_setopt_off_t(handle, option, curl_off_t(value)), "setting \(Self.name(of: option)) for",
                  request)
    }

    private func set(_ option: CURLoption, string value: String, _ request: HTTPRequest) throws(NetworkError) {
        try check(ccurl_setopt_string(handle, option, value), "setting \(Self.name(of: option)) for", request)
    }

    private func set(
        _ option: CURLoption, pointer value: UnsafeMutableRawPointer, _ request: HTTPRequest
    ) throws(NetworkError) {
        try check(ccurl_setopt_pointer(handle, option, value), "setting \(Self.name(of: option)) for", request)
    }

    /// Throws `.transport` unless `code` is CURLE_OK.
    private func check(_ code: CURLcode, _ action: String, _ request: HTTPRequest) throws(NetworkError) {
        guard code != CURLE_OK else { return }
        var message = "libcurl failed \(action) \(Self.target(of: request)): \(Self.text(of: code))."
        if code == CURLE_UNKNOWN_OPTION || code == CURLE_NOT_BUILT_IN {
            message += " This needs libcurl 7.85 or newer built with HTTP, TLS and AWS SigV4 support."
        }
        throw NetworkError(.transport, message)
    }

    // MARK: - Failures

    private func failure(
        _ code: CURLcode, request: HTTPRequest, configuration: HTTPClient.Configuration, transfer: Transfer
    ) -> NetworkError {
        let target = Self.target(of: request)
        var reason = Self.text(of: code)
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty && detail != reason { reason += " (\(detail))" }

        if code == CURLE_COULDNT_CONNECT && !transfer.deniedAddresses.isEmpty {
            let addresses = transfer.deniedAddresses.joined(separator: ", ")
            return NetworkError(.addressDenied, "\(target) was not sent: the address filter refused \(addresses), "
                + "so no connection was opened. Use a URL whose host resolves to an allowed address.")
        }
        if transfer.bodyLimitExceeded || code == CURLE_FILESIZE_EXCEEDED {
            return NetworkError(.tooLarge, "\(target): the response body is larger than the limit of "
                + "\(configuration.maxResponseBodySize) bytes, so the transfer was stopped. Raise "
                + "maxResponseBodySize if responses this large are expected.")
        }
        if transfer.headerLimitExceeded {
            return NetworkError(.tooLarge, "\(target): the response headers exceed \(Transfer.maxHeaderBytes) bytes, "
                + "so the transfer was stopped. The server is misbehaving.")
        }
        if let uploadError = transfer.uploadError {
            return NetworkError(.fileAccess, "\(target): reading the upload file failed: \(reason). Check that "
                + "the file is readable and not being changed during the upload.", underlying: uploadError)
        }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
             CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return NetworkError(.connectionFailed, "\(target) failed: \(reason). Check that the host name and port "
                + "are right and that the server is running and reachable.")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            let bundle = configuration.certificateAuthorityBundle ?? "libcurl's default CA bundle"
            return NetworkError(.connectionFailed, "\(target) failed: \(reason). The server's certificate was "
                + "checked against \(bundle); set SSL_CERT_FILE to the PEM file of trusted certificate "
                + "authorities if that is the wrong one.")
        case CURLE_OPERATION_TIMEDOUT:
            return NetworkError(.timedOut, "\(target) timed out: \(reason). The limits are "
                + "\(configuration.connectTimeout) to connect and \(configuration.totalTimeout) in total; raise them "
                + "if the server is just slow.")
        case CURLE_TOO_MANY_REDIRECTS:
            return NetworkError(.tooManyRedirects, "\(target) was redirected more than \(configuration.maxRedirects) "
                + "times: \(reason). Use the final URL, or raise maxRedirects.")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return NetworkError(.unsupportedProtocol, "\(target) failed: \(reason). Only http and https URLs and "
                + "redirects are allowed.")
        case CURLE_URL_MALFORMAT:
            return NetworkError(.invalidURL, "\(target) failed: \(reason). Pass an absolute, percent-encoded http or "
                + "https URL.")
        default:
            return NetworkError(.transport, "\(target) failed: \(reason).")
        }
    }

    /// "METHOD URL" for messages, without any user:password@ part of the URL.
    private static func target(of request: HTTPRequest) -> String {
        "\(request.method.rawValue) \(HTTPRequest.redacted(request.url))"
    }

    private static func text(of code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    /// The option's name, e.g. CURLOPT_URL, for messages.
    private static func name(of option: CURLoption) -> String {
        guard let info = curl_easy_option_by_id(option), let name = info.pointee.name else {
            return "option \(option.rawValue)"
        }
        return "CURLOPT_" + String(cString: name)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// The state of one transfer, reached from libcurl's callbacks through the *DATA pointers.
private final class Transfer {
    /// Response headers beyond this many bytes abort the transfer (libcurl only limits single header lines).
    static let maxHeaderBytes = 1 << 20

    let maxBodySize: Int
    let addressFilter: HTTPClient.AddressFilter?
    /// The number of bytes to upload (0 without a body).
    let uploadSize: Int64
    private let uploadData: Data?
    private let uploadFile: FileHandle?
    private var uploadOffset = 0

    private(set) var body = Data()
    private(set) var responseHeaders = HTTPHeaders()
    private var headerBytes = 0
    private(set) var bodyLimitExceeded = false
    private(set) var headerLimitExceeded = false
    /// Every address the filter refused, in the order libcurl tried them.
    private(set) var deniedAddresses: [String] = []
    private(set) var uploadError: (any Error)?

    /// Opens the upload file, if any.
    /// - Throws: `NetworkError(.fileAccess)` when the file cannot be opened or sized.
    init(request: HTTPRequest, configuration: HTTPClient.Configuration) throws(NetworkError) {
        maxBodySize = configuration.maxResponseBodySize
        addressFilter = configuration.addressFilter
        switch request.body {
        case .empty:
            uploadData = nil
            uploadFile = nil
            uploadSize = 0
        case .bytes(let data):
            precondition(request.method == .put || request.method == .post, "\(request.method.rawValue) sends no body")
            uploadData = data
            uploadFile = nil
            uploadSize = Int64(data.count)
        case .file(let url):
            precondition(request.method == .put || request.method == .post, "\(request.method.rawValue) sends no body")
            do {
                let file = try FileHandle(forReadingFrom: url)
                uploadFile = file
                uploadSize = Int64(try file.seekToEnd())
                try file.seek(toOffset: 0)
            } catch {
                throw NetworkError(.fileAccess, "cannot read the file to upload, \(url.path): "
                    + "\(error.localizedDescription). Check that it exists and is readable.", underlying: error)
            }
            uploadData = nil
        }
    }

    deinit {
        try? uploadFile?.close()
    }

    static func from(_ context: UnsafeMutableRawPointer?) -> Transfer {
        Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    }

    /// CURLOPT_WRITEFUNCTION: appends body bytes, or returns 0 (libcurl then aborts) past the size limit.
    func receiveBody(_ buffer: UnsafeMutablePointer<CChar>?, byteCount: Int) -> Int {
        guard body.count + byteCount <= maxBodySize else {
            bodyLimitExceeded = true
            return 0
        }
        if let buffer, byteCount > 0 {
            body.append(UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: byteCount)
        }
        return byteCount
    }

    /// CURLOPT_HEADERFUNCTION: one status or header line per call. A status line starts the headers of a new
    /// response (after a 100 Continue or a followed redirect), so only the final response's headers remain.
    func receiveHeaderLine(_ buffer: UnsafeMutablePointer<CChar>?, byteCount: Int) -> Int {
        headerBytes += byteCount
        guard headerBytes <= Self.maxHeaderBytes else {
            headerLimitExceeded = true
            return 0
        }
        guard let buffer else { return byteCount }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: byteCount)
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            responseHeaders = HTTPHeaders()
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            if !name.isEmpty { responseHeaders.appendReceived(name: name, value: value) }
        }
        return byteCount
    }

    /// CURLOPT_READFUNCTION: copies the next upload bytes into libcurl's buffer; 0 at the end.
    func sendBody(into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) -> Int {
        guard let buffer else { return 0 }
        if let uploadData {
            let count = min(capacity, uploadData.count - uploadOffset)
            guard count > 0 else { return 0 }
            let start = uploadData.startIndex + uploadOffset
            uploadData.copyBytes(to: UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self),
                                 from: start..<(start + count))
            uploadOffset += count
            return count
        }
        if let uploadFile {
            do {
                guard let chunk = try uploadFile.read(upToCount: capacity), !chunk.isEmpty else { return 0 }
                chunk.copyBytes(to: UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self),
                                count: chunk.count)
                return chunk.count
            } catch {
                uploadError = error
                return Int(CURL_READFUNC_ABORT)
            }
        }
        return 0
    }

    /// CURLOPT_SEEKFUNCTION: moves the upload back (libcurl only seeks from the start, to resend a body).
    func rewindBody(to offset: curl_off_t, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, offset >= 0, offset <= uploadSize else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
        if uploadData != nil {
            uploadOffset = Int(offset)
        } else if let uploadFile {
            do {
                try uploadFile.seek(toOffset: UInt64(offset))
            } catch {
                uploadError = error
                return Int32(CURL_SEEKFUNC_FAIL)
            }
        }
        return Int32(CURL_SEEKFUNC_OK)
    }

    /// CURLOPT_OPENSOCKETFUNCTION: asks the address filter, and opens the socket only if it allows the address.
    /// Returning CURL_SOCKET_BAD makes libcurl try the host's next address, or fail with CURLE_COULDNT_CONNECT.
    func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t {
        guard let address, let addressFilter else { return CURL_SOCKET_BAD }
        var text = [CChar](repeating: 0, count: 64)  // INET6_ADDRSTRLEN is 46
        guard ccurl_address_string(address, &text, text.count) == 0 else {
            deniedAddresses.append("an address of unknown family \(address.pointee.family)")
            return CURL_SOCKET_BAD
        }
        let ipAddress = String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard addressFilter(ipAddress) else {
            deniedAddresses.append(ipAddress)
            return CURL_SOCKET_BAD
        }
        return ccurl_open_socket(address)
    }
}

/// A curl_slist of header lines, freed with the object.
private final class CurlStringList {
    private(set) var pointer: UnsafeMutablePointer<curl_slist>?

    /// - Throws: `NetworkError(.transport)` when libcurl runs out of memory.
    init(_ lines: [String]) throws(NetworkError) {
        pointer = nil
        for line in lines {
            guard let appended = curl_slist_append(pointer, line) else {
                throw NetworkError(.transport, "libcurl could not build the request headers; the process may be "
                    + "out of memory.")
            }
            pointer = appended
        }
    }

    deinit {
        curl_slist_free_all(pointer)
    }
}
