/// What one ``BatchExtractor/run(_:isCancelled:)`` did: the Lambda's answer to its Distributed Map child, which
/// the map's `ResultWriter` collects into S3.
///
///     {"processed": 400, "computed": 391, "alreadyCached": 7,
///      "failed": [{"key": "images/x/broken.jpg", "reason": "cannot decode ...: the JPEG data is truncated ..."}],
///      "seconds": 6.8, "namespace": "3f2a9c0e5b1d7a64 (features, 1280 x float32)", "writer": "w1a2b3c4d5e6f7a8b"}
public struct BatchExtractionSummary: Codable, Sendable, Equatable {
    /// An object of the batch that has no vector, and why.
    public struct FailedObject: Codable, Sendable, Equatable {
        public var key: String
        /// What went wrong, fit to print (missing object, not an image, damaged, too large).
        public var reason: String

        public init(key: String, reason: String) {
            self.key = key
            self.reason = reason
        }
    }

    /// Items in the batch.
    public var processed: Int
    /// Vectors computed and committed by this call.
    public var computed: Int
    /// Items whose content already had a vector in the cache (including repeats of an image within the batch).
    public var alreadyCached: Int
    /// Items without a vector: missing objects and images that cannot be decoded. They never fail the batch.
    public var failed: [FailedObject]
    public var seconds: Double
    /// The cache namespace the vectors went to (the same one `bottleneck extract` uses for this backbone).
    public var namespace: String
    /// This process's cache writer id (its manifest is `<namespace>/manifests/<writer>.json`).
    public var writer: String

    public init(processed: Int, computed: Int, alreadyCached: Int, failed: [FailedObject], seconds: Double,
                namespace: String, writer: String) {
        self.processed = processed
        self.computed = computed
        self.alreadyCached = alreadyCached
        self.failed = failed
        self.seconds = seconds
        self.namespace = namespace
        self.writer = writer
    }
}
