import BottleneckServing
import Foundation
import LambdaRuntime

/// Classification mode: the request's images (fetched from their URLs, or given as bytes) through the combined
/// model, answered with the top classes.
///
/// HTTP callers (API Gateway, Function URLs) always get a response document: 200, or the status of the failure
/// (400 for a malformed request, 413 for an image in the request over its limit, else
/// `ServingError.Kind.httpStatus`) with an `ErrorResponse` body. Direct callers get the JSON on success, and an
/// invocation error of type `Classify.<kind>` otherwise, so that SDKs and Step Functions see a function error. A
/// `url` request fails with its image; in a `urls` request, even of one URL, each image fails on its own: the
/// answer is 200 with an error in that image's result.
final class ClassifyHandler: InvocationHandler {
    private let classifier: ImageClassifier
    private let fetcher: ImageFetcher
    private let defaultTop: Int
    private let fetchTimeout: Duration
    private let limits = ImageRequest.Limits()

    /// Loads the model once, for every invocation of this execution environment.
    /// - Throws: `ServingError(.invalidModel)` when the model cannot serve.
    init(settings: BootstrapSettings) throws {
        classifier = try ImageClassifier(modelAt: settings.model, threads: settings.threads)
        var policy = FetchPolicy(totalTimeout: settings.fetchTimeout)
        policy.connectTimeout = min(policy.connectTimeout, settings.fetchTimeout)
        if settings.allowLoopback { policy.addresses = .allowingLoopback }
        fetcher = try ImageFetcher(policy: policy)
        defaultTop = settings.defaultTop
        fetchTimeout = settings.fetchTimeout
    }

    func handle(_ invocation: Invocation) -> InvocationResult {
        var source = LambdaEvent.Source.direct
        do {
            let event = try LambdaEvent(decoding: invocation.event)
            source = event.source
            let request = try ImageRequest(event: event, limits: limits)
            return try answer(request, source: source, context: invocation.context)
        } catch let error as LambdaRuntimeError {
            let (kind, status) = error.code == .payloadTooLarge ? ("tooLarge", 413) : ("invalidRequest", 400)
            return failure(kind, error.message, status: status, source: source)
        } catch let error as ServingError {
            return failure(error.kind.rawValue, error.message, status: error.kind.httpStatus, source: source)
        } catch {
            return failure("internal", "\(error)", status: 500, source: source)
        }
    }

    private func answer(
        _ request: ImageRequest, source: LambdaEvent.Source, context: InvocationContext
    ) throws(ServingError) -> InvocationResult {
        let top = min(request.top ?? defaultTop, classifier.labels.count)
        var results: [ClassificationResponse.Result] = []
        var (fetchMs, decodeMs, inferenceMs, failures) = (0.0, 0.0, 0.0, 0)
        switch request.images {
        case .bytes(let bytes):
            let classification = try classifier.classify(bytes, top: top)
            results.append(Self.result(url: nil, classification, fetchMs: nil))
        case .url(let url):
            let start = ContinuousClock.now
            let bytes = try fetcher.fetch(url)
            fetchMs = Milliseconds.since(start)
            results.append(Self.result(url: url, try classifier.classify(bytes, top: top), fetchMs: fetchMs))
        case .urls(let urls):
            for url in urls {
                // A download that could outlast the invocation is not started: the others' results still return.
                guard context.remainingTime() > fetchTimeout + .seconds(1) else {
                    failures += 1
                    results.append(.init(url: url, error: ServingError.Kind.timedOut.rawValue,
                                         message: "Not fetched: the invocation's time limit was nearly reached. "
                                             + "Send fewer URLs per request, or raise the function's timeout."))
                    continue
                }
                let start = ContinuousClock.now
                do {
                    let bytes = try fetcher.fetch(url)
                    let elapsed = Milliseconds.since(start)
                    fetchMs += elapsed
                    results.append(Self.result(url: url, try classifier.classify(bytes, top: top), fetchMs: elapsed))
                } catch {
                    failures += 1
                    results.append(.init(url: url, error: error.kind.rawValue, message: error.message))
                }
            }
        }
        for result in results {
            decodeMs += result.decodeMs ?? 0
            inferenceMs += result.inferenceMs ?? 0
        }
        let body = Self.encode(ClassificationResponse(results: results))
        return InvocationResult(
            .response(source.responsePayload(statusCode: 200, json: body)),
            logFields: [("event", .string(source.rawValue)), ("status", 200), ("images", .int(results.count)),
                        ("failedImages", .int(failures)), ("fetchMs", .double(fetchMs)),
                        ("decodeMs", .double(decodeMs)), ("inferenceMs", .double(inferenceMs))])
    }

    private func failure(
        _ kind: String, _ message: String, status: Int, source: LambdaEvent.Source
    ) -> InvocationResult {
        let fields: [(String, LogValue)] = [("event", .string(source.rawValue)), ("status", .int(status)),
                                            ("error", .string(kind)), ("errorMessage", .string(message))]
        guard source.isHTTP else {
            return InvocationResult(.failure(FunctionError(type: "Classify.\(kind)", message: message)),
                                    logFields: fields, isError: true)
        }
        let body = Self.encode(ErrorResponse(error: kind, message: message))
        return InvocationResult(.response(source.responsePayload(statusCode: status, json: body)),
                                logFields: fields, isError: true)
    }

    private static func result(
        url: String?, _ classification: Classification, fetchMs: Double?
    ) -> ClassificationResponse.Result {
        ClassificationResponse.Result(url: url, top: classification.top, fetchMs: fetchMs.map(Milliseconds.rounded),
                                      decodeMs: Milliseconds.rounded(classification.decodeSeconds * 1000),
                                      inferenceMs: Milliseconds.rounded(classification.inferenceSeconds * 1000))
    }

    private static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The response types hold strings, numbers and arrays of them: encoding cannot fail.
        return (try? encoder.encode(value)) ?? Data()
    }
}
