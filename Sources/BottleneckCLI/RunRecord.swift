import BottleneckCache
import BottleneckDatasets
import BottleneckEngine
import BottleneckExtraction
import BottleneckTraining
import ContentHashing
import Foundation

/// `run.json` in a run folder: everything needed to reproduce and audit a trained head - where the data, backbone
/// and cache were, their fingerprints, and the resolved training configuration.
struct RunRecord: Codable {
    var data: String
    var backbone: String
    var tensor: String
    var cache: String
    var split: String
    var namespace: String
    /// How the cached vectors are stored; nil in run.json files written before it was recorded (float32 then).
    var dtype: VectorDType?
    /// The backbone's arithmetic; nil for fp32 (and in run.json files written before it was recorded).
    var precision: String?
    /// SHA-256 of the backbone file.
    var backboneSHA256: String
    /// SHA-256 over the sorted `sha256 label split` lines of every usable image: changes with any image, label or split.
    var dataSHA256: String
    var training: TrainingConfiguration
    var bestEpoch: Int
    var stoppedEarly: Bool
    var created: String

    init(extractor: FeatureExtractor, training: TrainingConfiguration, result: TrainingResult) {
        let options = extractor.options
        data = options.data.path
        backbone = options.model.path
        tensor = extractor.namespace.tensorName
        cache = options.cache.description
        split = options.split.description
        namespace = extractor.namespace.id
        dtype = extractor.namespace.dtype
        precision = options.precision == .float32 ? nil : options.precision.rawValue
        backboneSHA256 = extractor.namespace.backboneFingerprint
        let lines = extractor.dataset.items.map { "\($0.contentHash) \($0.label) \($0.split.rawValue)" }.sorted()
        dataSHA256 = SHA256.hash(Data(lines.joined(separator: "\n").utf8)).hexString
        self.training = training
        bestEpoch = result.bestEpoch
        stoppedEarly = result.stoppedEarly
        created = ISO8601DateFormatter().string(from: Date())
    }

    static func read(from folder: URL) throws -> RunRecord {
        let url = folder.appendingPathComponent("run.json")
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw CommandError("no run in '\(folder.path)': \(url.lastPathComponent) is missing; train one with"
                + " `bottleneck train` or `bottleneck run`.")
        }
        return try JSONDecoder().decode(RunRecord.self, from: bytes)
    }

    func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: folder.appendingPathComponent("run.json"), options: .atomic)
    }

    /// The extraction options this run's vectors came from.
    func extractionOptions(threads: Int) throws -> ExtractionOptions {
        ExtractionOptions(data: URL(fileURLWithPath: data), model: URL(fileURLWithPath: backbone), tensor: tensor,
                          cache: try CacheLocation(parsing: cache), threads: threads,
                          split: try SplitPolicy(parsing: split), dtype: dtype ?? .float32,
                          precision: try recordedPrecision())
    }

    private func recordedPrecision() throws -> Precision {
        guard let precision else { return .float32 }
        guard let known = Precision(rawValue: precision) else {
            throw CommandError("run.json records precision '\(precision)', which this version does not know (fp32,"
                + " int8); train again with this version.")
        }
        return known
    }
}
