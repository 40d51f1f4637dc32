import ArgumentParser
import BottleneckCache
import BottleneckDatasets
import BottleneckEngine
import BottleneckExtraction
import Foundation
import Yams

/// Extraction settings: a YAML config file (`--config`) whose every field is also a flag; flags win.
struct ExtractionSettings: ParsableArguments {
    @Option(name: .long, help: "YAML config file (keys: data, backbone, tensor, cache, threads, shard, split, pixel_limit, dtype, precision, flush_every).")
    var config: String?

    @Option(name: .long, help: "Image folder (root/<label>/**/<image>) or a path,label CSV manifest.")
    var data: String?

    @Option(name: .long, help: "Backbone ONNX file (default: models/efficientnet-lite0.onnx).")
    var backbone: String?

    @Option(name: .long, help: "Bottleneck tensor (default: the model's).")
    var tensor: String?

    @Option(name: .long, help: "Feature cache: a folder, file:///path or s3://bucket/prefix (default: cache/features).")
    var cache: String?

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "This process's part of the images, i/N (0-based); or set AWS_BATCH_JOB_ARRAY_INDEX and --shard-count.")
    var shard: String?

    @Option(name: .long, help: "With AWS_BATCH_JOB_ARRAY_INDEX: how many shards there are.")
    var shardCount: Int?

    @Option(name: .long, help: "Train/validation/test percentages when the data has no train/test folders (default 80/10/10).")
    var split: String?

    @Option(name: .long, help: "Refuse images with more pixels than this (default 50000000).")
    var pixelLimit: Int?

    @Option(name: .long, help: "Vector storage: float32 or float16 (default float32).")
    var dtype: String?

    @Option(name: .long, help: "Backbone arithmetic: fp32, or int8 on AVX-512 VNNI CPUs (faster; its vectors are cached apart; default fp32).")
    var precision: Precision?

    @Option(name: .long, help: "Commit a cache shard every N new vectors (default: when full or every minute).")
    var flushEvery: Int?

    @Flag(name: .long, help: "Checksum every cached vector first, so images in damaged shards are redone now (reads the whole cache).")
    var verify = false

    /// The keys a config file may hold, with the flags' meaning.
    struct ConfigFile: Decodable {
        var data: String?
        var backbone: String?
        var tensor: String?
        var cache: String?
        var threads: Int?
        var shard: String?
        var split: String?
        var pixelLimit: Int?
        var dtype: String?
        var precision: String?
        var flushEvery: Int?

        enum CodingKeys: String, CodingKey {
            case data, backbone, tensor, cache, threads, shard, split, dtype, precision
            case pixelLimit = "pixel_limit"
            case flushEvery = "flush_every"
        }
    }

    /// Merges the config file, the flags and the defaults, and checks every value.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ExtractionOptions {
        var file = ConfigFile()
        let base = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if let config {
            guard let text = FileManager.default.contents(atPath: config).map({ String(decoding: $0, as: UTF8.self) })
            else { throw ValidationError("cannot read the config file '\(config)'.") }
            do {
                file = try YAMLDecoder().decode(ConfigFile.self, from: text)
            } catch {
                throw ValidationError("config file '\(config)' is not valid: \(error)")
            }
        }
        // Paths in a config file are relative to the working directory, like flags, so that
        // `configs/NAME.yaml` can say `data: datasets/NAME`.
        func path(_ value: String) -> URL {
            value.hasPrefix("/") ? URL(fileURLWithPath: value) : base.appendingPathComponent(value)
        }
        guard let dataPath = data ?? file.data else {
            throw ValidationError("no data: pass --data FOLDER (or a CSV manifest), or a --config file with `data:`.")
        }
        let threadCount = threads ?? file.threads ?? InferenceSession.defaultThreadCount
        guard threadCount >= 1 else { throw ValidationError("threads must be at least 1.") }
        var assignment = ShardAssignment.all
        if let text = shard ?? file.shard {
            assignment = try ShardAssignment(parsing: text)
        } else if let count = shardCount, let fromBatch = try ShardAssignment.fromEnvironment(environment, count: count) {
            assignment = fromBatch
        }
        let dtypeName = dtype ?? file.dtype ?? "float32"
        guard let vectorType = VectorDType(rawValue: dtypeName) else {
            throw ValidationError("dtype must be float32 or float16, not '\(dtypeName)'.")
        }
        let precisionName = precision?.rawValue ?? file.precision ?? Precision.float32.rawValue
        guard let arithmetic = Precision(rawValue: precisionName) else {
            throw ValidationError("precision must be fp32 or int8, not '\(precisionName)'.")
        }
        let limit = pixelLimit ?? file.pixelLimit ?? 50_000_000
        guard limit > 0 else { throw ValidationError("pixel_limit must be positive.") }
        if let every = flushEvery ?? file.flushEvery, every < 1 {
            throw ValidationError("flush_every must be at least 1.")
        }
        return ExtractionOptions(
            data: path(dataPath), model: path(backbone ?? file.backbone ?? "models/efficientnet-lite0.onnx"),
            tensor: tensor ?? file.tensor, cache: try CacheLocation(parsing: cache ?? file.cache ?? "cache/features"),
            threads: threadCount, shard: assignment,
            split: try (split ?? file.split).map { try SplitPolicy(parsing: $0) } ?? .default,
            pixelLimit: limit, dtype: vectorType, precision: arithmetic, flushEveryVectors: flushEvery ?? file.flushEvery,
            verifyCache: verify, environment: environment)
    }
}
