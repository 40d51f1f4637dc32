import BottleneckDatasets
import BottleneckEvaluation
import BottleneckExtraction
import BottleneckImages
import BottleneckTraining
import Foundation

/// The steps after extraction: train a head on the cached vectors and evaluate it on the held-out split, writing
/// everything into a run folder.
///
///     runs/NAME/head.json       the head (standardisation, weights, class names)
///     runs/NAME/labels.json     class names, in label order
///     runs/NAME/split.json      every image with its label, split and SHA-256
///     runs/NAME/metrics.jsonl   one JSON line per epoch
///     runs/NAME/run.json        data, backbone, cache, fingerprints, resolved training configuration
///     runs/NAME/report.json     evaluation on the test split; report.html, the same as a page
enum HeadPipeline {
    /// Trains on the train split (validating on the validation split every epoch) and writes the run folder.
    static func train(_ extractor: FeatureExtractor, configuration: TrainingConfiguration, output: URL) throws
        -> TrainingResult
    {
        try extractor.dataset.validate()
        let classNames = extractor.dataset.labels
        let train = try extractor.labelledVectors(in: .train)
        let validation = try extractor.labelledVectors(in: .validation)
        let trainData = try TrainingData(vectors: train.vectors, labels: train.labels, dimension: train.dimension,
                                         classNames: classNames)
        let validationData = validation.count == 0 ? nil
            : try TrainingData(vectors: validation.vectors, labels: validation.labels,
                               dimension: validation.dimension, classNames: classNames)
        print("training a \(configuration.head) head on \(train.count) vectors (\(validation.count) for validation),"
            + " \(classNames.count) classes, \(configuration.epochs) epochs")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        var lines: [String] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let start = Date()
        let result = try Trainer.train(trainData, validation: validationData, configuration: configuration) { epoch in
            if let line = try? encoder.encode(epoch) { lines.append(String(decoding: line, as: UTF8.self)) }
            let validation = epoch.validationAccuracy.map { String(format: "  val loss %.4f acc %.4f", epoch.validationLoss ?? 0, $0) } ?? ""
            print(String(format: "epoch %3d  loss %.4f  acc %.4f", epoch.epoch, epoch.trainLoss, epoch.trainAccuracy)
                + validation + String(format: "  lr %.5f", epoch.learningRate))
        }
        let seconds = Date().timeIntervalSince(start)
        try result.head.write(to: output.appendingPathComponent("head.json"))
        try JSONEncoder().encode(classNames).write(to: output.appendingPathComponent("labels.json"), options: .atomic)
        try extractor.dataset.write(to: output.appendingPathComponent("split.json"))
        try Data((lines.joined(separator: "\n") + "\n").utf8)
            .write(to: output.appendingPathComponent("metrics.jsonl"), options: .atomic)
        try RunRecord(extractor: extractor, training: configuration, result: result).write(to: output)
        print(String(format: "trained in %.2f s; best epoch %d%@; head and metrics in %@", seconds, result.bestEpoch,
                     result.stoppedEarly ? " (stopped early)" : "", output.path))
        return result
    }

    /// Evaluates the run's head on the test split: prints the table, writes report.json and report.html.
    static func evaluate(_ extractor: FeatureExtractor, run folder: URL) throws {
        let head = try Head(contentsOf: folder.appendingPathComponent("head.json"))
        let test = try extractor.labelledVectors(in: .test)
        guard test.count > 0 else {
            throw CommandError("the test split of \(extractor.options.data.path) is empty: nothing to evaluate on.")
        }
        guard head.classNames == extractor.dataset.labels else {
            throw CommandError("the head in \(folder.path) was trained on classes \(head.classNames), but the data"
                + " now has \(extractor.dataset.labels); train again.")
        }
        let scores = head.scores(for: test.vectors)
        let evaluation = try Evaluation(scores: scores, labels: test.labels, classNames: head.classNames,
                                        identifiers: test.paths.map { extractor.dataset.displayPath(of: $0) })
        print("evaluation on \(test.count) test images:")
        print(ReportTable.render(evaluation))
        try evaluation.jsonData().write(to: folder.appendingPathComponent("report.json"), options: .atomic)
        let record = try? RunRecord.read(from: folder)
        let html = HTMLReport.render(
            evaluation: evaluation, epochs: try epochs(in: folder), thumbnails: thumbnails(evaluation, test, extractor),
            title: "Bottleneck: \(extractor.options.data.lastPathComponent)",
            metadata: [
                "data": extractor.options.data.path, "backbone": extractor.options.model.lastPathComponent,
                "backbone sha256": extractor.namespace.backboneFingerprint, "cache namespace": extractor.namespace.id,
                "head": record.map { "\($0.training.head), best epoch \($0.bestEpoch)" } ?? "",
            ])
        try Data(html.utf8).write(to: folder.appendingPathComponent("report.html"), options: .atomic)
        print("report: \(folder.appendingPathComponent("report.html").path) (and report.json)")
    }

    /// The training curves from metrics.jsonl.
    private static func epochs(in folder: URL) throws -> [EpochRecord] {
        guard let text = FileManager.default.contents(atPath: folder.appendingPathComponent("metrics.jsonl").path)
        else { return [] }
        return try String(decoding: text, as: UTF8.self).split(separator: "\n").map { line in
            let metrics = try JSONDecoder().decode(EpochMetrics.self, from: Data(line.utf8))
            return EpochRecord(epoch: metrics.epoch, trainLoss: metrics.trainLoss, trainAccuracy: metrics.trainAccuracy,
                               validationLoss: metrics.validationLoss, validationAccuracy: metrics.validationAccuracy,
                               learningRate: Double(metrics.learningRate))
        }
    }

    /// Small PNG thumbnails (at most 96 pixels on the longer side) of the worst mistakes, keyed by identifier.
    private static func thumbnails(_ evaluation: Evaluation, _ test: LabelledVectors, _ extractor: FeatureExtractor)
        -> [String: Data]
    {
        var result: [String: Data] = [:]
        let decoder = ImageDecoder()
        for mistake in evaluation.mistakes.prefix(24) {
            let path = test.paths[mistake.index]
            guard let image = try? decoder.decode(contentsOf: path, minimumShorterSide: 96) else { continue }
            let scale = min(1, 96 / Double(max(image.width, image.height)))
            let thumbnail = image.resizedBilinear(width: max(1, Int(Double(image.width) * scale)),
                                                  height: max(1, Int(Double(image.height) * scale)))
            if let png = try? PNGEncoder.encode(thumbnail) { result[mistake.identifier] = Data(png) }
        }
        return result
    }
}
