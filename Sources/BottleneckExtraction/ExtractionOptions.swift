import BottleneckCache
import BottleneckDatasets
import BottleneckEngine
import Foundation

/// What `bottleneck extract` computes and where it keeps the vectors.
public struct ExtractionOptions: Sendable {
    /// An image folder (`root/<label>/**/<image>`, optional train/val/test subfolders) or a `path,label` CSV.
    public var data: URL
    /// The backbone's ONNX file; its `bottleneck.preprocessing` metadata says how to prepare images.
    public var model: URL
    /// Bottleneck tensor; nil takes the model's default.
    public var tensor: String?
    public var cache: CacheLocation
    /// Images processed at once, one per thread, each thread running decode, preprocessing and the backbone.
    public var threads: Int
    /// The part of the images this process extracts (`--shard i/N`); all by default.
    public var shard: ShardAssignment
    public var split: SplitPolicy
    /// Refuse images with more pixels than this before decoding them.
    public var pixelLimit: Int
    public var dtype: VectorDType
    /// The backbone's arithmetic; int8 vectors go to a namespace of their own.
    public var precision: Precision
    /// Commit a shard after this many new vectors (nil: when full, every minute, and at the end). Small values
    /// lose less work to a kill, at the cost of more, smaller shards.
    public var flushEveryVectors: Int?
    /// Read and checksum every cached vector before deciding what is missing, so images in a damaged shard are
    /// extracted again in this run. Off by default: it reads the whole cache (from S3: downloads it); damage in
    /// shard headers and indexes is found at open either way.
    public var verifyCache: Bool
    /// Where S3 credentials, region and endpoint come from (the AWS variables); the process's by default.
    public var environment: [String: String]

    public init(
        data: URL, model: URL, tensor: String? = nil, cache: CacheLocation, threads: Int,
        shard: ShardAssignment = .all, split: SplitPolicy = .default, pixelLimit: Int = 50_000_000,
        dtype: VectorDType = .float32, precision: Precision = .float32, flushEveryVectors: Int? = nil,
        verifyCache: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.data = data
        self.model = model
        self.tensor = tensor
        self.cache = cache
        self.threads = threads
        self.shard = shard
        self.split = split
        self.pixelLimit = pixelLimit
        self.dtype = dtype
        self.precision = precision
        self.flushEveryVectors = flushEveryVectors
        self.verifyCache = verifyCache
        self.environment = environment
    }
}
