import BottleneckExtraction
import Foundation
import LambdaRuntime

/// Extraction mode: each event is one item batch of a Step Functions Distributed Map (`S3ItemBatch`), whose
/// images' bottleneck vectors go into the S3 feature cache; the answer is the `BatchExtractionSummary`.
///
/// A batch that cannot be read, or that fails as a whole (cache unreadable, S3 refusing, too little time left), is
/// an invocation error of type `Extract.Failed` or `Extract.InvalidBatch`, which the state machine retries; work
/// already committed is skipped on the retry.
final class ExtractHandler: InvocationHandler {
    /// Work stops when less than this is left before the invocation's deadline, to commit and answer in time.
    static let safetyMargin: Duration = .seconds(10)

    private let extractor: BatchExtractor

    /// Loads the backbone and opens the cache once, for every invocation of this execution environment.
    /// - Throws: `ExtractionError`, engine, cache or network errors that say what is wrong.
    init(environment: [String: String]) throws {
        extractor = try BatchExtractor(configuration: .init(environment: environment))
    }

    func handle(_ invocation: Invocation) -> InvocationResult {
        let batch: S3ItemBatch
        do {
            batch = try S3ItemBatch(json: invocation.event)
        } catch {
            let message = "\(error)"
            return InvocationResult(.failure(FunctionError(type: "Extract.InvalidBatch", message: message)),
                                    logFields: [("event", "extract"), ("errorMessage", .string(message))],
                                    isError: true)
        }
        let context = invocation.context
        do {
            let summary = try extractor.run(batch) { context.remainingTime() < Self.safetyMargin }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = try encoder.encode(summary)
            return InvocationResult(.response(body), logFields: [
                ("event", "extract"), ("processed", .int(summary.processed)), ("computed", .int(summary.computed)),
                ("alreadyCached", .int(summary.alreadyCached)), ("failedImages", .int(summary.failed.count))])
        } catch {
            let message = "\(error)"
            return InvocationResult(.failure(FunctionError(type: "Extract.Failed", message: message)),
                                    logFields: [("event", "extract"), ("items", .int(batch.items.count)),
                                                ("errorMessage", .string(message))],
                                    isError: true)
        }
    }
}
