import ArgumentParser
import BottleneckCache
import BottleneckEngine
import BottleneckEvaluation
import BottleneckExport
import BottleneckExtraction
import BottleneckServing
import BottleneckTraining
import ContentHashing
import Foundation
import ONNXSchema

/// `bottleneck export`: the run's backbone and head as one ONNX model with a `scores` output, then a self-check of
/// the written file against the head on cached vectors.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one ONNX model (backbone + head, output 'scores') from a run folder, and check it.")

    /// The self-check's bound on |combined model - head on cached vectors| per probability. Both sides run the
    /// same engine on the same preprocessed pixels, so the features agree exactly; what differs is the head's
    /// arithmetic (standardisation folded into the Gemm, another summation order), a few float32 ulps of logits
    /// of magnitude ~10, i.e. below 1e-5 in probability. 1e-4 leaves a margin of ten.
    static let checkTolerance: Float = 1e-4

    @Option(name: .customLong("run"), help: "The run folder `train` wrote (holds run.json and head.json).")
    var runFolder: String

    @Option(name: .long, help: "The combined ONNX model to write.")
    var output: String

    @Option(name: .customLong("check-images"),
            help: "Test images for the self-check of the written model (0 skips it).")
    var checkImages = 64

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if checkImages < 0 { throw ValidationError("--check-images must be 0 or more.") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
    }

    /// `bottleneck.training`: how the head was trained and on what.
    struct TrainingRecord: Codable {
        var configuration: TrainingConfiguration
        /// The split policy of the data (`train/validation/test` percentages), for `evaluate --model`.
        var split: String
        var data: String
        var dataSHA256: String
        var tensor: String
        var bestEpoch: Int
        var stoppedEarly: Bool
        var created: String

        enum CodingKeys: String, CodingKey {
            case configuration, split, data, tensor, created
            case dataSHA256 = "data_sha256", bestEpoch = "best_epoch", stoppedEarly = "stopped_early"
        }
    }

    /// `bottleneck.test_metrics`: the head's metrics on the run's test split (from cached vectors).
    struct TestMetrics: Codable {
        var samples: Int
        var accuracy: Double
        var top5Accuracy: Double
        var macroF1: Double
        var weightedF1: Double
        var logLoss: Double

        enum CodingKeys: String, CodingKey {
            case samples, accuracy
            case top5Accuracy = "top5_accuracy", macroF1 = "macro_f1", weightedF1 = "weighted_f1", logLoss = "log_loss"
        }

        init(_ evaluation: Evaluation) throws {
            samples = evaluation.sampleCount
            accuracy = evaluation.accuracy
            top5Accuracy = try evaluation.topKAccuracy(min(5, evaluation.classNames.count))
            macroF1 = evaluation.macro.f1
            weightedF1 = evaluation.weighted.f1
            logLoss = evaluation.logLoss
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: runFolder)
        let outputURL = URL(fileURLWithPath: output)
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let record = try RunRecord.read(from: folder)
        let head = try Head(contentsOf: folder.appendingPathComponent("head.json"))
        let backboneURL = URL(fileURLWithPath: record.backbone)
        guard FileManager.default.fileExists(atPath: backboneURL.path) else {
            throw CommandError("the run's backbone \(backboneURL.path) is missing; restore it (the run needs the exact"
                + " file it was trained with).")
        }

        // The extractor loads the backbone once: its namespace holds the file's SHA-256, its preprocessor the spec.
        let options = try record.extractionOptions(threads: threadCount)
        let extractor = try FeatureExtractor(options: options)
        let namespace = extractor.namespace
        guard namespace.backboneFingerprint == record.backboneSHA256 else {
            throw CommandError("the backbone \(backboneURL.path) has changed since the run was trained (sha256"
                + " \(namespace.backboneFingerprint), the run's is \(record.backboneSHA256)): the head would sit on"
                + " different features. Restore the original file, or extract and train again with this one.")
        }
        guard namespace.id == record.namespace else {
            throw CommandError(Self.namespaceMismatch(record, namespace, runJSON: folder.appendingPathComponent("run.json")))
        }
        let backbone: Onnx_ModelProto
        do {
            backbone = try Onnx_ModelProto(contentsOf: backboneURL)
        } catch {
            throw CommandError("\(backboneURL.path) is not a readable ONNX model (\(error)).")
        }

        // The head's test metrics, on the cached vectors of the run's test split.
        guard head.classNames == extractor.dataset.labels else {
            throw CommandError("the head in \(folder.path) was trained on classes \(head.classNames), but the data"
                + " now has \(extractor.dataset.labels); train again before exporting.")
        }
        let test = try extractor.labelledVectors(in: .test)
        guard test.count > 0 else {
            throw CommandError("the test split of \(record.data) is empty: nothing to measure or check the model on.")
        }
        let headScores = head.scores(for: test.vectors)
        let evaluation = try Evaluation(scores: headScores, labels: test.labels, classNames: head.classNames,
                                        identifiers: test.paths.map(\.path))

        let training = TrainingRecord(
            configuration: record.training, split: record.split, data: record.data, dataSHA256: record.dataSHA256,
            tensor: record.tensor, bestEpoch: record.bestEpoch, stoppedEarly: record.stoppedEarly,
            created: record.created)
        let metadata = try CombinedModelMetadata(
            labels: head.classNames, preprocessing: extractor.preprocessor.spec,
            backboneSHA256: namespace.backboneFingerprint, bottleneckTensor: record.tensor,
            trainingJSON: try CombinedModelMetadata.compactJSON(training),
            testMetricsJSON: try CombinedModelMetadata.compactJSON(try TestMetrics(evaluation)),
            toolVersion: "bottleneck \(BottleneckCommand.version)")
        let model = try CombinedModelBuilder(backbone: backbone, bottleneckTensor: record.tensor, head: head)
            .makeModel(metadata: metadata)
        let bytes = try CombinedModelBuilder.write(model, to: outputURL)
        print(String(format: "wrote %@: %.1f MB, sha256 %@", outputURL.path, Double(bytes.count) / 1e6,
                     SHA256.hash(bytes).hexString))
        print("  output '\(CombinedModelBuilder.scoresName)' [N, \(head.classCount)]: softmax over"
            + " \(head.classCount) classes (\(head.classNames.joined(separator: ", ")))")
        print(String(format: "  head on the cached test vectors: accuracy %.4f on %d images (in bottleneck.test_metrics)",
                     evaluation.accuracy, evaluation.sampleCount))

        guard checkImages > 0 else {
            print("self-check skipped (--check-images 0)")
            return
        }
        do {
            try selfCheck(outputURL, test: test, headScores: headScores, classCount: head.classCount,
                          threads: threadCount, precision: options.precision)
        } catch {
            try? FileManager.default.removeItem(at: outputURL)
            throw error
        }
    }

    /// Scores up to `checkImages` test images (spread evenly over the split) with the written model, from their
    /// files, as serving does (`ImageClassifier`), and compares with the head's scores on the same images' cached
    /// vectors. A NaN or infinite score on either side fails the check.
    /// An int8 run is checked with the model run at int8, the arithmetic its vectors came from.
    private func selfCheck(_ url: URL, test: LabelledVectors, headScores: [Float], classCount: Int, threads: Int,
                           precision: Precision) throws
    {
        let classifier: ImageClassifier
        do {
            classifier = try ImageClassifier(modelAt: url, threads: threads, precision: precision)
        } catch {
            throw CommandError("self-check failed: \(error.message) Removed \(url.path).")
        }
        let count = min(checkImages, test.count)
        let rows = (0..<count).map { $0 * test.count / count }
        var maximum: Float = 0
        var agreeing = 0
        let start = Date()
        for row in rows {
            let path = test.paths[row]
            let combined: [Float]
            do {
                combined = try classifier.probabilities(of: try Data(contentsOf: path))
            } catch let error as ServingError {
                throw CommandError("self-check failed on \(path.path): \(error.message) Removed \(url.path).")
            } catch {
                throw CommandError("self-check failed: cannot read \(path.path) (\(error.localizedDescription));"
                    + " restore the test images, or export with --check-images 0. Removed \(url.path).")
            }
            let expected = headScores[(row * classCount)..<((row + 1) * classCount)]
            for (a, b) in zip(combined, expected) {
                // max() ignores NaN, so a NaN difference counts as infinite.
                let difference = abs(a - b)
                maximum = max(maximum, difference.isNaN ? .infinity : difference)
            }
            if Self.argmax(combined) == Self.argmax(Array(expected)) { agreeing += 1 }
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "self-check on %d test images (%.2f s): max |combined - head on cached vectors| = %.3g"
            + " (tolerance %.0e); top-1 agrees on %d/%d", count, seconds, Double(maximum), Double(Self.checkTolerance),
            agreeing, count))
        guard maximum.isFinite else {
            throw CommandError("self-check failed: the combined model or the head gives NaN or infinite scores;"
                + " removed \(url.path). The head or the cached vectors are damaged: extract again with --verify,"
                + " train again, then export.")
        }
        guard maximum <= Self.checkTolerance else {
            throw CommandError("self-check failed: the combined model's scores differ from the head's by up to"
                + " \(maximum) (tolerance \(Self.checkTolerance)); removed \(url.path). The cached vectors may come from"
                + " other preprocessing or a damaged cache: extract again with --verify, then export.")
        }
    }

    /// Why the run's cache namespace differs from the one its backbone, tensor and dtype give now (the backbone's
    /// fingerprint is checked before, so it is the dtype or the rules that derive the namespace).
    private static func namespaceMismatch(_ record: RunRecord, _ namespace: CacheNamespace, runJSON: URL) -> String {
        if record.dtype == nil {
            let recordedDType = VectorDType.allCases.first { dtype in
                let candidate = try? CacheNamespace(
                    backboneFingerprint: namespace.backboneFingerprint, preprocessingJSON: namespace.preprocessing,
                    tensorName: namespace.tensorName, dtype: dtype, dimension: namespace.dimension)
                return candidate?.id == record.namespace
            }
            if let recordedDType {
                return "the run was trained on \(recordedDType.rawValue) vectors (cache namespace \(record.namespace)),"
                    + " but \(runJSON.path) predates recording the dtype, so export looked for"
                    + " \(namespace.dtype.rawValue) vectors (namespace \(namespace.id)). Add"
                    + " \"dtype\": \"\(recordedDType.rawValue)\" to \(runJSON.path), or train again, then export."
            }
        }
        return "the run's vectors are in cache namespace \(record.namespace), but its backbone, tensor"
            + " '\(namespace.tensorName)' and \(namespace.dtype.rawValue) vectors give namespace \(namespace.id) now (the"
            + " backbone's preprocessing metadata or the namespace rules changed since training). Extract and train"
            + " again with this version, then export."
    }

    /// The index of the largest value (the first of equal ones).
    private static func argmax(_ values: [Float]) -> Int {
        values.indices.reduce(0) { values[$1] > values[$0] ? $1 : $0 }
    }
}
