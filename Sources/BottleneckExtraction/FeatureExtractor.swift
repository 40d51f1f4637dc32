import BottleneckCache
import BottleneckDatasets
import BottleneckEngine
import BottleneckImages
import Foundation
import Synchronization

/// Computes the bottleneck vector of every image of a dataset once and keeps it in the feature cache.
///
/// Each of `threads` workers takes the next few uncached images, reads and decodes them (TurboJPEG with DCT
/// scaling, libpng), preprocesses them straight into its own NHWC buffer and runs the backbone on them together
/// with a one-thread session: while one worker decodes, the other runs the network, so both cores stay busy
/// without a queue between stages. Vectors go to the cache, which commits a shard at a time; a run killed at any moment loses
/// at most the uncommitted vectors, and the next run computes only what is missing.
public final class FeatureExtractor {
    public let options: ExtractionOptions
    /// The scanned dataset; images that fail to decode are removed from it and listed in its report.
    public private(set) var dataset: Dataset
    public let model: InferenceModel
    public let preprocessor: Preprocessor
    public let namespace: CacheNamespace
    public let cache: FeatureCache

    private let backbone: ExtractionBackbone

    /// Loads the model, scans the data and opens the cache.
    /// - Throws: what is wrong with the model (no preprocessing metadata, unreadable), the data or the cache.
    public init(options: ExtractionOptions) throws {
        precondition(options.threads >= 1, "threads must be at least 1")
        self.options = options
        backbone = try ExtractionBackbone(modelFile: options.model, tensor: options.tensor, dtype: options.dtype,
                                          precision: options.precision)
        model = backbone.model
        preprocessor = backbone.preprocessor
        namespace = backbone.namespace
        dataset = try Dataset.open(options.data, options: ScanOptions(split: options.split))
        cache = try FeatureCache.open(
            store: try options.cache.makeStore(environment: options.environment), namespace: namespace,
            options: FeatureCache.Options(flushEveryVectors: options.flushEveryVectors))
    }

    /// The distinct images (one file per content hash) this shard owns, in a stable order.
    public func assignedImages() throws -> [(hash: ImageHash, path: URL)] {
        var firstPath: [ImageHash: URL] = [:]
        for item in dataset.items {
            let hash = try ImageHash(hex: item.contentHash)
            if options.shard.owns(hash), firstPath[hash] == nil { firstPath[hash] = item.path }
        }
        return firstPath.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Extracts every assigned image that is not cached yet.
    /// - Parameters:
    ///   - progress: called from the calling thread about four times a second with (done, total) of this run.
    ///   - isCancelled: polled by the workers; when it turns true they finish their current image and stop.
    /// - Returns: the counts; the cache is flushed and closed whether or not the run was cancelled.
    /// - Throws: cache errors (disk full, S3 refusing writes): those stop the run. Unreadable or damaged images
    ///   never do; they are skipped and reported.
    public func run(
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in },
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> ExtractionSummary {
        let start = DispatchTime.now().uptimeNanoseconds
        let assigned = try assignedImages()
        if options.verifyCache { try cache.verify() }
        let work = assigned.filter { !cache.contains($0.hash) }
        let state = WorkState(work: work)
        let context = WorkerContext(backbone: backbone, decoder: ImageDecoder(pixelLimit: options.pixelLimit),
                                    cache: cache)
        let group = DispatchGroup()
        for _ in 0..<min(options.threads, max(work.count, 1)) {
            group.enter()
            let worker = Thread {
                context.process(state, isCancelled: isCancelled)
                group.leave()
            }
            worker.stackSize = 8 << 20
            worker.start()
        }
        while group.wait(timeout: .now() + .milliseconds(250)) == .timedOut {
            progress(state.done.load(ordering: .relaxed), work.count)
        }
        progress(state.done.load(ordering: .relaxed), work.count)
        try cache.close()
        if let failure = state.fatalError { throw failure }
        for (path, error) in state.failures { dataset.recordFailure(at: path, error: error) }
        let done = state.done.load(ordering: .relaxed)
        return ExtractionSummary(
            images: dataset.items.count, assigned: assigned.count, reused: assigned.count - work.count,
            extracted: done - state.failures.count, skipped: dataset.report.skipped,
            interrupted: done < work.count, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
            namespace: namespace.description, cacheProblems: cache.problems.map(\.description))
    }
}

/// The queue of images to extract and what happened to them, shared by the workers.
private final class WorkState: @unchecked Sendable {
    let work: [(hash: ImageHash, path: URL)]
    let next = Atomic<Int>(0)
    /// Images finished, successfully or not.
    let done = Atomic<Int>(0)
    private let lock = NSLock()
    private var failureList: [(URL, ImageError)] = []
    private var fatal: (any Error)?

    init(work: [(hash: ImageHash, path: URL)]) {
        self.work = work
    }

    var failures: [(URL, ImageError)] { lock.withLock { failureList } }
    var fatalError: (any Error)? { lock.withLock { fatal } }

    /// The next (up to) `count` image indices, empty when none is left or the run must stop.
    func claim(upTo count: Int) -> Range<Int> {
        if lock.withLock({ fatal != nil }) { return 0..<0 }
        let first = min(next.add(count, ordering: .relaxed).oldValue, work.count)
        return first..<min(first + count, work.count)
    }

    func fail(_ path: URL, _ error: ImageError) {
        lock.withLock { failureList.append((path, error)) }
    }

    func stop(with error: any Error) {
        lock.withLock { if fatal == nil { fatal = error } }
    }
}

/// What every worker shares: the backbone, the decoder, and where vectors go.
private struct WorkerContext: @unchecked Sendable {
    let backbone: ExtractionBackbone
    let decoder: ImageDecoder
    let cache: FeatureCache

    /// One worker: its own session and input buffer, a few images at a time until none is left. The images of a
    /// claim are decoded one by one, then run through the backbone together (see `InferenceSession`).
    func process(_ state: WorkState, isCancelled: @Sendable () -> Bool) {
        let worker = ExtractionBackbone.Worker(backbone, capacity: InferenceSession.maximumGroup)
        while !isCancelled() {
            let claimed = state.claim(upTo: worker.capacity)
            if claimed.isEmpty { return }
            var prepared: [ImageHash] = []
            for index in claimed {
                let path = state.work[index].path
                do {
                    let bytes: Data
                    do {
                        bytes = try Data(contentsOf: path)
                    } catch {
                        throw ImageError(.unreadable, source: path.path, reason: "\(error.localizedDescription)")
                    }
                    try worker.prepare(bytes, source: path.path, decoder: decoder, slot: prepared.count)
                    // A file edited since the scan is stored under its new content, never under the old hash.
                    prepared.append(ImageHash.of(bytes))
                } catch let error as ImageError {
                    state.fail(path, error)
                } catch {
                    state.stop(with: error)
                }
            }
            do {
                if !prepared.isEmpty {
                    for (hash, vector) in zip(prepared, try worker.vectors(count: prepared.count)) {
                        _ = try cache.append(hash, vector)
                    }
                }
            } catch {
                state.stop(with: error)
            }
            state.done.add(claimed.count, ordering: .relaxed)
        }
    }
}

/// A failure of the extraction set-up, with what to do about it.
public struct ExtractionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
