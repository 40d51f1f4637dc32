import BottleneckCache
import BottleneckImages
import BottleneckNetwork
import Foundation
import Synchronization

/// Computes the bottleneck vectors of a batch of S3 objects into the feature cache: the extraction mode of the
/// Lambda `bootstrap` (`BOTTLENECK_MODE=extract`), which a Step Functions Distributed Map drives over every object
/// under an S3 prefix (configs/lambda/extraction.yaml).
///
/// Each ``run(_:isCancelled:)`` downloads the batch's objects on ``Configuration/downloads`` threads (one S3
/// connection each), hashes their bytes, and hands the images that have no vector yet to
/// ``Configuration/threads`` workers that decode, preprocess and run the backbone, one image each at a time (the
/// pipeline of ``FeatureExtractor``), so the network and both cores are busy at once. Vectors go to the same
/// content-keyed cache and namespace as `bottleneck extract` with this backbone, so a later `extract`, `train` or
/// `run` over the same image files finds them. The cache is flushed before `run` returns: a Lambda may be frozen
/// or stopped as soon as it has answered.
///
/// One extractor lives for the whole execution environment (create it at init, reuse it for every invocation):
/// the model is loaded once, and the cache is opened once and reopened after
/// ``Configuration/cacheRefreshInterval`` to see what other writers committed (a stale view only costs repeated
/// work, never wrong vectors). Every extractor writes as its own cache writer, so any number of them may run at
/// once.
///
///     let extractor = try BatchExtractor(configuration: try .init(environment: ProcessInfo.processInfo.environment))
///     let batch = try S3ItemBatch(json: payload)                                // per invocation
///     let summary = try extractor.run(batch) { remainingMilliseconds() < 10_000 }
///     respond(try JSONEncoder().encode(summary))
///
/// Not thread-safe: one `run` at a time (a Lambda environment handles one invocation at a time).
public final class BatchExtractor: @unchecked Sendable {
    /// Where the backbone, the cache and the images are, and how much runs at once.
    public struct Configuration: Sendable {
        /// The backbone's ONNX file (the one `bottleneck extract --backbone` uses, so that the namespaces agree).
        public var model: URL
        /// Bottleneck tensor; nil takes the model's default.
        public var tensor: String?
        /// The feature cache, normally `s3://bucket/prefix`.
        public var cache: CacheLocation
        /// Workers decoding and running the backbone, one image each at a time. Default: one per core.
        public var threads: Int
        /// Concurrent S3 downloads, one connection each. Default 4: S3 answers in tens of milliseconds, a core
        /// computes an image in about ten, so four downloads keep two cores fed.
        public var downloads: Int
        /// Objects larger than this are refused (listed as failed) without being downloaded. Default 32 MiB.
        public var maxObjectBytes: Int
        /// Images whose header declares more pixels are refused before decoding. Default 50 MP.
        public var pixelLimit: Int
        public var dtype: VectorDType
        /// Reopen the cache when it was opened longer ago than this, to skip what other writers committed since.
        /// Opening reads every writer's manifest and every shard's index. Default 5 minutes.
        public var cacheRefreshInterval: Duration
        /// Where S3 credentials, region and endpoint come from (the AWS variables).
        public var environment: [String: String]

        public init(
            model: URL, tensor: String? = nil, cache: CacheLocation,
            threads: Int = ProcessInfo.processInfo.activeProcessorCount, downloads: Int = 4,
            maxObjectBytes: Int = 32 << 20, pixelLimit: Int = 50_000_000, dtype: VectorDType = .float32,
            cacheRefreshInterval: Duration = .seconds(300),
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) {
            self.model = model
            self.tensor = tensor
            self.cache = cache
            self.threads = threads
            self.downloads = downloads
            self.maxObjectBytes = maxObjectBytes
            self.pixelLimit = pixelLimit
            self.dtype = dtype
            self.cacheRefreshInterval = cacheRefreshInterval
            self.environment = environment
        }

        /// The configuration of a Lambda function in extraction mode, from its environment variables:
        ///
        /// | variable | meaning | default |
        /// |---|---|---|
        /// | `BOTTLENECK_CACHE` | the feature cache, `s3://bucket/prefix` (or a path) | required |
        /// | `BOTTLENECK_MODEL` | the backbone ONNX file | `$LAMBDA_TASK_ROOT/model.onnx` |
        /// | `BOTTLENECK_TENSOR` | the bottleneck tensor | the model's |
        /// | `BOTTLENECK_THREADS` | compute workers | one per core |
        /// | `BOTTLENECK_DOWNLOADS` | concurrent S3 downloads | 4 |
        /// | `BOTTLENECK_DTYPE` | `float32` or `float16` vectors | `float32` |
        ///
        /// Credentials and region are the AWS variables Lambda sets; `AWS_ENDPOINT_URL_S3` points at another S3.
        /// - Throws: `ExtractionError` naming the variable that is missing or malformed.
        public init(environment: [String: String]) throws {
            func value(_ name: String) -> String? {
                environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            func count(_ name: String) throws -> Int? {
                guard let text = value(name) else { return nil }
                guard let number = Int(text), number >= 1 else {
                    throw ExtractionError("\(name)='\(text)' is not a positive whole number; set it to e.g. 2, or "
                        + "unset it for the default.")
                }
                return number
            }
            guard let cacheText = value("BOTTLENECK_CACHE") else {
                throw ExtractionError("BOTTLENECK_CACHE is not set: set it to the feature cache, s3://bucket/prefix,"
                    + " the same --cache that `bottleneck extract` and `train` use.")
            }
            let modelPath: String
            if let path = value("BOTTLENECK_MODEL") {
                modelPath = path
            } else if let root = value("LAMBDA_TASK_ROOT") {
                modelPath = root + "/model.onnx"
            } else {
                throw ExtractionError("neither BOTTLENECK_MODEL nor LAMBDA_TASK_ROOT is set: set BOTTLENECK_MODEL to"
                    + " the backbone's ONNX file.")
            }
            var dtype = VectorDType.float32
            if let text = value("BOTTLENECK_DTYPE") {
                guard let parsed = VectorDType(rawValue: text) else {
                    throw ExtractionError("BOTTLENECK_DTYPE='\(text)' is not a vector type: use float32 or float16.")
                }
                dtype = parsed
            }
            self.init(
                model: URL(fileURLWithPath: modelPath), tensor: value("BOTTLENECK_TENSOR"),
                cache: try CacheLocation(parsing: cacheText),
                threads: try count("BOTTLENECK_THREADS") ?? ProcessInfo.processInfo.activeProcessorCount,
                downloads: try count("BOTTLENECK_DOWNLOADS") ?? 4, dtype: dtype, environment: environment)
        }
    }

    public let configuration: Configuration
    /// The namespace the vectors go to: the backbone file's hash, its preprocessing, the tensor, the dtype.
    public var namespace: CacheNamespace { backbone.namespace }
    /// This extractor's cache writer id, the same across cache reopenings.
    public let writerID: String

    private let backbone: ExtractionBackbone
    private let store: any ObjectStore
    /// One per download thread, kept across batches so that their connections to S3 are reused.
    private let imageClients: [S3Client]
    private let decoder: ImageDecoder
    private var cache: FeatureCache
    private var cacheOpened: ContinuousClock.Instant

    /// Loads the backbone and opens the cache.
    /// - Throws: `ExtractionError` or engine errors for an unusable model, `CacheError` when the cache cannot be
    ///   read, `NetworkError` when no AWS credentials are found.
    public init(configuration: Configuration) throws {
        precondition(configuration.threads >= 1 && configuration.downloads >= 1,
                     "threads and downloads must be at least 1")
        precondition(configuration.maxObjectBytes >= 1, "the object size limit must be positive")
        self.configuration = configuration
        backbone = try ExtractionBackbone(modelFile: configuration.model, tensor: configuration.tensor,
                                          dtype: configuration.dtype)
        let aws = try AWSConfiguration.load(environment: configuration.environment)
        let http = HTTPClient.Configuration(maxResponseBodySize: configuration.maxObjectBytes)
        imageClients = try (0..<configuration.downloads).map { _ in try S3Client(aws: aws, http: http) }
        decoder = ImageDecoder(pixelLimit: configuration.pixelLimit)
        store = try configuration.cache.makeStore(environment: configuration.environment)
        cache = try FeatureCache.open(store: store, namespace: backbone.namespace)
        writerID = cache.writerID
        cacheOpened = .now
    }

    /// Downloads, extracts and caches the vectors of `batch`'s objects, and flushes the cache.
    ///
    /// - Parameters:
    ///   - batch: what the Distributed Map sends; its objects are read from `batch.batchInput.bucket`.
    ///   - isCancelled: polled between objects; when it turns true (e.g. the invocation's deadline is near) the
    ///     work stops, what was computed is committed, and `run` throws.
    /// - Returns: the counts and the objects that have no vector, with reasons. A missing object, one over
    ///   ``Configuration/maxObjectBytes`` or bytes that are not a decodable image never fail the batch.
    /// - Throws: when the cache cannot be read or written, when S3 refuses or keeps failing a download (denied,
    ///   throttled, unreachable after its retries), or when cancelled: the batch should be retried, and the
    ///   retry skips every vector committed so far.
    public func run(
        _ batch: S3ItemBatch, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> BatchExtractionSummary {
        let start = ContinuousClock.now
        if start - cacheOpened >= configuration.cacheRefreshInterval {
            try cache.close()
            cache = try FeatureCache.open(store: store, namespace: backbone.namespace,
                                          options: FeatureCache.Options(writerID: writerID))
            cacheOpened = start
        }
        let state = BatchState(items: batch.items, capacity: 2 * configuration.threads)
        let group = DispatchGroup()
        let downloading = DispatchGroup()
        for client in imageClients.prefix(max(batch.items.count, 1)) {
            group.enter()
            downloading.enter()
            Thread { [self] in
                download(into: state, bucket: batch.batchInput.bucket, client: client, isCancelled: isCancelled)
                downloading.leave()
                group.leave()
            }.start()
        }
        for _ in 0..<configuration.threads {
            group.enter()
            let worker = Thread { [self] in
                compute(state, isCancelled: isCancelled)
                group.leave()
            }
            worker.stackSize = 8 << 20
            worker.start()
        }
        downloading.wait()
        state.finishDownloads()
        group.wait()

        let flushFailure: (any Error)?
        do {
            try cache.flush()
            flushFailure = nil
        } catch {
            flushFailure = error
        }
        if let failure = state.fatalError ?? flushFailure { throw failure }
        let summary = BatchExtractionSummary(
            processed: state.finished.load(ordering: .relaxed), computed: state.computed.load(ordering: .relaxed),
            alreadyCached: state.cached.load(ordering: .relaxed), failed: state.failures,
            seconds: Self.seconds(ContinuousClock.now - start), namespace: backbone.namespace.description,
            writer: writerID)
        guard summary.processed == batch.items.count else {
            throw ExtractionError("stopped after \(summary.processed) of the batch's \(batch.items.count) objects, as"
                + " asked (the invocation's deadline); the \(summary.computed) vectors computed are committed, so"
                + " running the batch again finishes it.")
        }
        return summary
    }

    /// One download thread: claims objects, fetches and hashes them, queues those without a vector.
    private func download(into state: BatchState, bucket: String, client: S3Client,
                          isCancelled: @Sendable () -> Bool) {
        while let index = state.claim() {
            if isCancelled() {
                state.cancel()
                return
            }
            let item = state.items[index]
            if let size = item.size, size > configuration.maxObjectBytes {
                state.fail(item.key, "the object is \(size) bytes, more than the limit of "
                    + "\(configuration.maxObjectBytes); resize or re-encode the image")
                continue
            }
            let bytes: Data
            do {
                bytes = try client.getObject(bucket: bucket, key: item.key)
            } catch where error.code == .notFound {
                state.fail(item.key, "s3://\(bucket)/\(item.key) no longer exists (deleted since it was listed)")
                continue
            } catch where error.code == .tooLarge {
                state.fail(item.key, "the object is more than the limit of \(configuration.maxObjectBytes) bytes;"
                    + " resize or re-encode the image")
                continue
            } catch {
                state.stop(with: error)
                return
            }
            let hash = ImageHash.of(bytes)
            if cache.contains(hash) {
                state.cached.add(1, ordering: .relaxed)
                state.finished.add(1, ordering: .relaxed)
                continue
            }
            guard state.enqueue(Job(key: item.key, source: "s3://\(bucket)/\(item.key)", hash: hash, bytes: bytes))
            else { return }
        }
    }

    /// One compute thread: decodes, preprocesses and runs queued images until the queue is done.
    private func compute(_ state: BatchState, isCancelled: @Sendable () -> Bool) {
        let worker = ExtractionBackbone.Worker(backbone)
        while let job = state.dequeue() {
            if isCancelled() {
                state.cancel()
                return
            }
            do {
                let vector = try worker.vector(of: job.bytes, source: job.source, decoder: decoder)
                if try cache.append(job.hash, vector) {
                    state.computed.add(1, ordering: .relaxed)
                } else {
                    state.cached.add(1, ordering: .relaxed)  // the same image twice in the batch
                }
                state.finished.add(1, ordering: .relaxed)
            } catch let error as ImageError {
                state.fail(job.key, error.description)
            } catch {
                state.stop(with: error)
            }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A downloaded image waiting for a compute thread.
private struct Job: Sendable {
    let key: String
    let source: String
    let hash: ImageHash
    let bytes: Data
}

/// The objects of one batch, the bounded queue between download and compute threads, and the outcome.
private final class BatchState: @unchecked Sendable {
    let items: [S3ItemBatch.Item]
    /// Objects done: computed, found cached or failed.
    let finished = Atomic<Int>(0)
    let computed = Atomic<Int>(0)
    let cached = Atomic<Int>(0)
    private let next = Atomic<Int>(0)
    private let capacity: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var downloadsDone = false
    private var failureList: [BatchExtractionSummary.FailedObject] = []
    private var fatal: (any Error)?
    /// Set by a fatal error or a cancellation: every thread stops at its next step.
    private var stopping = false

    init(items: [S3ItemBatch.Item], capacity: Int) {
        self.items = items
        self.capacity = capacity
    }

    var failures: [BatchExtractionSummary.FailedObject] { condition.withLock { failureList } }
    var fatalError: (any Error)? { condition.withLock { fatal } }

    /// The next object index, or nil when none is left or the batch must stop.
    func claim() -> Int? {
        if condition.withLock({ stopping }) { return nil }
        let index = next.add(1, ordering: .relaxed).oldValue
        return index < items.count ? index : nil
    }

    /// Waits for room and queues `job`; false when the batch must stop.
    func enqueue(_ job: Job) -> Bool {
        condition.withLock {
            while queue.count >= capacity, !stopping { condition.wait() }
            guard !stopping else { return false }
            queue.append(job)
            condition.broadcast()
            return true
        }
    }

    /// The next queued image; nil once downloads are done and the queue is empty, or the batch must stop.
    func dequeue() -> Job? {
        condition.withLock {
            while queue.isEmpty, !downloadsDone, !stopping { condition.wait() }
            guard !stopping, !queue.isEmpty else { return nil }
            condition.broadcast()
            return queue.removeFirst()
        }
    }

    func finishDownloads() {
        condition.withLock {
            downloadsDone = true
            condition.broadcast()
        }
    }

    func fail(_ key: String, _ reason: String) {
        condition.withLock { failureList.append(.init(key: key, reason: reason)) }
        finished.add(1, ordering: .relaxed)
    }

    func stop(with error: any Error) {
        condition.withLock {
            if fatal == nil { fatal = error }
            stopping = true
            condition.broadcast()
        }
    }

    func cancel() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
    }
}
