import BottleneckEngine
import BottleneckImages
import Foundation

/// The `metadata_props` of a combined model (backbone + head in one ONNX file), format `combined/1` (the keys
/// serving reads too are `CombinedModelContract`'s):
///
/// | key | value |
/// |---|---|
/// | `bottleneck.format` | `combined/1` |
/// | `bottleneck.labels` | JSON array of class names, in the order of the `scores` columns |
/// | `bottleneck.preprocessing` | the backbone's JSON (see `PreprocessingSpec`) |
/// | `bottleneck.backbone_sha256` | SHA-256 of the backbone file the head was trained on |
/// | `bottleneck.bottleneck_tensor` | the backbone tensor the head reads |
/// | `bottleneck.training` | JSON object: how the head was trained (configuration, split, data fingerprint) |
/// | `bottleneck.test_metrics` | JSON object: the head's metrics on the test split |
/// | `bottleneck.tool_version` | the version of the tool that wrote the file |
public struct CombinedModelMetadata: Sendable, Equatable {
    public static let formatKey = CombinedModelContract.formatKey
    public static let labelsKey = CombinedModelContract.labelsKey
    public static let preprocessingKey = PreprocessingSpec.metadataKey
    public static let backboneSHA256Key = "bottleneck.backbone_sha256"
    public static let bottleneckTensorKey = "bottleneck.bottleneck_tensor"
    public static let trainingKey = "bottleneck.training"
    public static let testMetricsKey = "bottleneck.test_metrics"
    public static let toolVersionKey = "bottleneck.tool_version"
    /// The value of `bottleneck.format` this version writes and reads.
    public static let format = CombinedModelContract.format

    /// Class names, indexed by `scores` column.
    public var labels: [String]
    public var preprocessing: PreprocessingSpec
    public var backboneSHA256: String
    public var bottleneckTensor: String
    /// A JSON object.
    public var trainingJSON: String
    /// A JSON object.
    public var testMetricsJSON: String
    public var toolVersion: String

    /// - Throws: `ExportError(.invalidMetadata)` when `trainingJSON` or `testMetricsJSON` is not a JSON object.
    public init(labels: [String], preprocessing: PreprocessingSpec, backboneSHA256: String, bottleneckTensor: String,
                trainingJSON: String, testMetricsJSON: String, toolVersion: String) throws(ExportError)
    {
        precondition(!labels.isEmpty, "a combined model needs at least one class")
        try Self.checkObject(trainingJSON, key: Self.trainingKey)
        try Self.checkObject(testMetricsJSON, key: Self.testMetricsKey)
        self.labels = labels
        self.preprocessing = preprocessing
        self.backboneSHA256 = backboneSHA256
        self.bottleneckTensor = bottleneckTensor
        self.trainingJSON = trainingJSON
        self.testMetricsJSON = testMetricsJSON
        self.toolVersion = toolVersion
    }

    /// Reads the metadata of a combined model (e.g. `InferenceModel.metadata`).
    /// - Throws: `ExportError(.notACombinedModel)` naming the missing or unusable entry, e.g. for a plain backbone.
    public init(reading metadata: [String: String]) throws(ExportError) {
        func value(_ key: String) throws(ExportError) -> String {
            guard let value = metadata[key] else {
                throw ExportError(.notACombinedModel, "the model has no '\(key)' metadata: it is not a combined model"
                    + " written by `bottleneck export` (a plain backbone has no head); export one from a run folder.")
            }
            return value
        }
        let format = try value(Self.formatKey)
        guard format == Self.format else {
            throw ExportError(.notACombinedModel, "the model's format is '\(format)', but this version reads"
                + " '\(Self.format)'; export the model again with this version of `bottleneck export`.")
        }
        let labelsJSON = try value(Self.labelsKey)
        guard let labels = try? JSONDecoder().decode([String].self, from: Data(labelsJSON.utf8)), !labels.isEmpty else {
            throw ExportError(.notACombinedModel, "'\(Self.labelsKey)' is not a non-empty JSON array of class names;"
                + " the file is damaged, export it again.")
        }
        let preprocessingJSON = try value(Self.preprocessingKey)
        do {
            preprocessing = try PreprocessingSpec(json: preprocessingJSON)
        } catch {
            throw ExportError(.notACombinedModel, "unusable '\(Self.preprocessingKey)': \(error)")
        }
        self.labels = labels
        backboneSHA256 = try value(Self.backboneSHA256Key)
        bottleneckTensor = try value(Self.bottleneckTensorKey)
        trainingJSON = try value(Self.trainingKey)
        testMetricsJSON = try value(Self.testMetricsKey)
        toolVersion = try value(Self.toolVersionKey)
        for (key, json) in [(Self.trainingKey, trainingJSON), (Self.testMetricsKey, testMetricsJSON)] {
            do {
                try Self.checkObject(json, key: key)
            } catch {
                throw ExportError(.notACombinedModel, error.message + "; the file is damaged, export it again.")
            }
        }
    }

    private static func checkObject(_ json: String, key: String) throws(ExportError) {
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) is [String: Any] else {
            throw ExportError(.invalidMetadata, "\(key) must be a JSON object, got: \(json.prefix(200))")
        }
    }

    /// The entries in the order they are written.
    public var entries: KeyValuePairs<String, String> {
        [
            Self.formatKey: Self.format,
            // Encoding an array of strings cannot fail.
            Self.labelsKey: try! Self.compactJSON(labels),
            Self.preprocessingKey: preprocessing.jsonString(),
            Self.backboneSHA256Key: backboneSHA256,
            Self.bottleneckTensorKey: bottleneckTensor,
            Self.trainingKey: trainingJSON,
            Self.testMetricsKey: testMetricsJSON,
            Self.toolVersionKey: toolVersion,
        ]
    }

    /// Compact JSON with sorted keys and unescaped slashes, the form metadata values take.
    /// - Throws: `EncodingError` for values JSON cannot hold (NaN, infinity).
    public static func compactJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
