import BottleneckNetwork
import Foundation

/// A client of the Lambda Runtime API, version 2018-06-01, at `http://$AWS_LAMBDA_RUNTIME_API`.
///
/// Every call blocks the calling thread. `nextInvocation()` is a long poll with no practical timeout (Lambda
/// freezes the process between events, so a short timeout would only fire after a thaw); when the poll's
/// connection fails it is retried a few times before the error is thrown.
///
///     let client = try RuntimeAPIClient(endpoint: "127.0.0.1:9001")
///     let invocation = try client.nextInvocation()
///     try client.sendResponse(Data(#"{"ok":true}"#.utf8), for: invocation.context.requestID)
public final class RuntimeAPIClient: Sendable {
    /// `host:port` of the Runtime API.
    public let endpoint: String
    /// How many times the long poll is sent before its failure is thrown. Default 5.
    public let pollAttempts: Int

    private let pollClient: HTTPClient
    private let postClient: HTTPClient

    /// The most bytes an event may have: Lambda's synchronous payload limit is 6 MiB, the emulator's 6 MiB + 100;
    /// the margin keeps a slightly larger event from failing every poll.
    static let maxEventBytes = 16 << 20

    /// Creates a client of the Runtime API at `endpoint` (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`).
    /// - Throws: `LambdaRuntimeError(.runtimeAPIUnreachable)` when libcurl cannot be initialised.
    public init(endpoint: String, pollAttempts: Int = 5) throws(LambdaRuntimeError) {
        precondition(pollAttempts >= 1, "pollAttempts must be at least 1")
        self.endpoint = endpoint
        self.pollAttempts = pollAttempts
        do {
            // A year: "no timeout" in practice; libcurl has no way to say "none" through HTTPClient.
            pollClient = try HTTPClient(configuration: .init(
                connectTimeout: .seconds(5), totalTimeout: .seconds(365 * 86_400),
                maxResponseBodySize: Self.maxEventBytes, userAgent: "bottleneck-lambda-runtime"))
            postClient = try HTTPClient(configuration: .init(
                connectTimeout: .seconds(5), totalTimeout: .seconds(60), maxResponseBodySize: 1 << 20,
                userAgent: "bottleneck-lambda-runtime"))
        } catch {
            throw LambdaRuntimeError(.runtimeAPIUnreachable, "Cannot create an HTTP client for the Runtime API: "
                + "\(error.message)", underlying: error)
        }
    }

    /// Creates a client from `AWS_LAMBDA_RUNTIME_API` in `environment`.
    /// - Throws: `LambdaRuntimeError(.missingEnvironment)` when the variable is unset or empty.
    public convenience init(environment: [String: String]) throws(LambdaRuntimeError) {
        guard let endpoint = environment["AWS_LAMBDA_RUNTIME_API"], !endpoint.isEmpty else {
            throw LambdaRuntimeError(.missingEnvironment, "AWS_LAMBDA_RUNTIME_API is not set: this program is a "
                + "Lambda bootstrap. Run it inside AWS Lambda or under the Runtime Interface Emulator "
                + "(aws-lambda-rie ./bootstrap).")
        }
        try self.init(endpoint: endpoint)
    }

    /// Waits for the next event (`GET /runtime/invocation/next`).
    /// - Throws: `LambdaRuntimeError`: `.runtimeAPIUnreachable` when every attempt failed to connect or broke,
    ///   `.runtimeAPIRejected` for a non-200 status, `.invalidInvocation` when the request id or deadline is missing.
    public func nextInvocation() throws(LambdaRuntimeError) -> Invocation {
        let request = HTTPRequest(method: .get, url: url("runtime/invocation/next"))
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try pollClient.send(request)
                guard response.statusCode == 200 else {
                    throw LambdaRuntimeError(.runtimeAPIRejected, "The Runtime API answered GET invocation/next with "
                        + "status \(response.statusCode): \(Self.excerpt(response.body)). The runtime exits so "
                        + "that Lambda restarts it.", statusCode: response.statusCode)
                }
                return try Self.invocation(from: response)
            } catch let error as NetworkError where attempt < pollAttempts
                && [.connectionFailed, .timedOut].contains(error.code) {
                Thread.sleep(forTimeInterval: 0.05 * Double(1 << attempt))
            } catch let error as NetworkError {
                throw LambdaRuntimeError(.runtimeAPIUnreachable, "GET invocation/next at \(endpoint) failed "
                    + "\(attempt) times: \(error.message)", underlying: error)
            } catch let error as LambdaRuntimeError {
                throw error
            } catch {
                throw LambdaRuntimeError(.runtimeAPIUnreachable, "GET invocation/next failed: \(error)")
            }
        }
    }

    /// Posts the result of an invocation (`POST /runtime/invocation/{id}/response`).
    /// - Throws: `LambdaRuntimeError`: `.runtimeAPIRejected` for any status but 202 (413: the payload is over
    ///   6 MiB; 500: the runtime must exit), `.runtimeAPIUnreachable` when the post could not be sent.
    public func sendResponse(_ payload: Data, for requestID: String) throws(LambdaRuntimeError) {
        try post(payload, to: "runtime/invocation/\(Self.pathSegment(requestID))/response", errorType: nil)
    }

    /// Reports a failed invocation (`POST /runtime/invocation/{id}/error`).
    /// - Throws: as `sendResponse(_:for:)`.
    public func sendError(_ error: FunctionError, for requestID: String) throws(LambdaRuntimeError) {
        try post(Self.encode(error), to: "runtime/invocation/\(Self.pathSegment(requestID))/error",
                 errorType: error.errorType)
    }

    /// Reports that initialisation failed (`POST /runtime/init/error`); the caller then exits.
    /// - Throws: as `sendResponse(_:for:)`.
    public func sendInitializationError(_ error: FunctionError) throws(LambdaRuntimeError) {
        try post(Self.encode(error), to: "runtime/init/error", errorType: error.errorType)
    }

    // MARK: - Helpers

    private func url(_ path: String) -> String {
        "http://\(endpoint)/2018-06-01/\(path)"
    }

    private func post(_ body: Data, to path: String, errorType: String?) throws(LambdaRuntimeError) {
        var request = HTTPRequest(method: .post, url: url(path), body: .bytes(body))
        request.headers.add(name: "Content-Type", value: "application/json")
        if let errorType {
            request.headers.add(name: "Lambda-Runtime-Function-Error-Type", value: Self.headerSafe(errorType))
        }
        let response: HTTPResponse
        do {
            response = try postClient.send(request)
        } catch {
            throw LambdaRuntimeError(.runtimeAPIUnreachable, "POST \(path) at \(endpoint) failed: \(error.message)",
                                     underlying: error)
        }
        guard response.statusCode == 202 else {
            let hint = response.statusCode == 413
                ? " The payload of \(body.count) bytes is over Lambda's 6 MiB limit; return less."
                : " The runtime exits so that Lambda restarts it."
            throw LambdaRuntimeError(.runtimeAPIRejected, "The Runtime API answered POST \(path) with status "
                + "\(response.statusCode): \(Self.excerpt(response.body)).\(hint)", statusCode: response.statusCode)
        }
    }

    private static func invocation(from response: HTTPResponse) throws(LambdaRuntimeError) -> Invocation {
        guard let requestID = response.headers["Lambda-Runtime-Aws-Request-Id"], !requestID.isEmpty else {
            throw LambdaRuntimeError(.invalidInvocation, "The Runtime API sent an event without "
                + "Lambda-Runtime-Aws-Request-Id, so it cannot be answered. Check AWS_LAMBDA_RUNTIME_API.")
        }
        guard let deadlineText = response.headers["Lambda-Runtime-Deadline-Ms"],
              let deadline = Int64(deadlineText) else {
            throw LambdaRuntimeError(.invalidInvocation, "The Runtime API sent event \(requestID) without a "
                + "numeric Lambda-Runtime-Deadline-Ms. Check AWS_LAMBDA_RUNTIME_API.")
        }
        let traceID = response.headers["Lambda-Runtime-Trace-Id"].flatMap { $0.isEmpty ? nil : $0 }
        let context = InvocationContext(
            requestID: requestID, deadlineMilliseconds: deadline,
            invokedFunctionARN: response.headers["Lambda-Runtime-Invoked-Function-Arn"] ?? "", traceID: traceID)
        return Invocation(context: context, event: response.body)
    }

    private static func encode(_ error: FunctionError) -> Data {
        // Encoding three strings and a string array cannot fail.
        (try? JSONEncoder().encode(error)) ?? Data()
    }

    /// The request id as one URL path segment (ids are UUIDs; anything else is percent-encoded).
    private static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? text
    }

    private static let unreservedCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `text` without control characters, which cannot go into a header.
    private static func headerSafe(_ text: String) -> String {
        let cleaned = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        return cleaned.isEmpty ? "Unhandled" : cleaned
    }

    private static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }
}
