import ArgumentParser
import BottleneckDatasets
import BottleneckEngine
import BottleneckEvaluation
import BottleneckExport
import BottleneckExtraction
import BottleneckServing
import Foundation

/// `bottleneck train`: a head on the cached vectors only (run `extract` first).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a head on the cached vectors of the train split (validating every epoch).")

    @OptionGroup var data: ExtractionSettings
    @OptionGroup var training: TrainingSettings

    func run() throws {
        let options = try data.resolve()
        let (output, configuration) = try training.resolve(config: data.config, data: options.data)
        _ = try HeadPipeline.train(try FeatureExtractor(options: options), configuration: configuration, output: output)
    }
}

/// `bottleneck evaluate`: the run's head on the held-out test split, from cached vectors; or, with `--model`, a
/// combined model (`bottleneck export`) on image files.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a trained head on the test split (a table, report.json and report.html in its run"
            + " folder), or a combined model on image files (--model, --data).")

    @Option(name: .customLong("run"), help: "The run folder `train` wrote (holds run.json and head.json).")
    var runFolder: String?

    @Option(name: .long, help: "A combined model written by `bottleneck export`, evaluated from image files.")
    var model: String?

    @Option(name: .long, help: "With --model: the image folder (root/<label>/**/<image>) or a path,label CSV.")
    var data: String?

    @Option(name: .long, help: "With --model: test (the split the model was not trained on) or all.")
    var split = "test"

    @Option(name: .long, help: "With --model: write the metrics (report.json format) to this file.")
    var report: String?

    @Option(name: .long, help: "With --model: worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "With --model: backbone arithmetic, fp32 or int8 (AVX-512 VNNI CPUs; default fp32).")
    var precision: Precision?

    func validate() throws {
        switch (runFolder, model) {
        case (nil, nil), (.some, .some):
            throw ValidationError("pass either --run FOLDER (a trained head, on cached vectors) or --model FILE"
                + " --data DIR (a combined model from `bottleneck export`, on image files).")
        case (.some, nil):
            if data != nil || report != nil || split != "test" || threads != nil || precision != nil {
                throw ValidationError("--data, --split, --report, --threads and --precision go with --model; --run"
                    + " evaluates the run's own data and writes report.json into the run folder.")
            }
        case (nil, .some):
            if data == nil { throw ValidationError("--model needs --data DIR: the images to evaluate it on.") }
            if !["test", "all"].contains(split) { throw ValidationError("--split must be test or all, not '\(split)'.") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
        }
    }

    func run() throws {
        if let runFolder {
            let folder = URL(fileURLWithPath: runFolder)
            let options = try RunRecord.read(from: folder).extractionOptions(threads: 1)
            try HeadPipeline.evaluate(try FeatureExtractor(options: options), run: folder)
        } else if let model, let data {
            try evaluateCombinedModel(at: URL(fileURLWithPath: model), data: URL(fileURLWithPath: data))
        }
    }

    /// Scores every image of the chosen split with the combined model and prints the metrics table.
    ///
    /// The split comes from the data's train/test folders, or else from the split policy recorded in the model's
    /// `bottleneck.training` (the one the head was trained with), or else the default 80/10/10: the same images
    /// are held out as in training.
    private func evaluateCombinedModel(at url: URL, data: URL) throws {
        let classifier: ImageClassifier
        do {
            classifier = try ImageClassifier(
                modelAt: url, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                precision: precision ?? .float32)
        } catch {
            throw CommandError(error.message)
        }
        struct RecordedSplit: Decodable { var split: String? }
        let recorded = classifier.metadata[CombinedModelMetadata.trainingKey].flatMap {
            try? JSONDecoder().decode(RecordedSplit.self, from: Data($0.utf8))
        }
        let policy = try recorded?.split.map { try SplitPolicy(parsing: $0) } ?? .default
        let dataset = try Dataset.open(data, options: ScanOptions(split: policy))
        let items = split == "all" ? dataset.items : dataset.items(in: .test)
        guard !items.isEmpty else {
            throw CommandError("\(data.path) has no \(split == "all" ? "" : "test ")images to evaluate on.")
        }
        let classIndex = Dictionary(uniqueKeysWithValues: classifier.labels.enumerated().map { ($1, $0) })
        let unknown = Set(items.map(\.label)).subtracting(classIndex.keys).sorted()
        guard unknown.isEmpty else {
            throw CommandError("the data has classes the model was not trained on: \(unknown.joined(separator: ", "));"
                + " the model knows \(classifier.labels.joined(separator: ", ")). Evaluate on data with those"
                + " folder names.")
        }
        var scores: [Float] = []
        var labels: [Int] = []
        var identifiers: [String] = []
        var skipped: [String] = []
        let bar = ProgressBar(label: "evaluate")
        let start = Date()
        for (index, item) in items.enumerated() {
            let shownPath = dataset.displayPath(of: item.path)
            do {
                scores += try classifier.probabilities(of: try Data(contentsOf: item.path))
                labels.append(classIndex[item.label]!)
                identifiers.append(shownPath)
            } catch let error as ServingError where error.kind != .invalidModel {
                skipped.append("\(shownPath): \(error.message)")
            } catch let error as ServingError {
                throw CommandError(error.message)
            } catch {
                skipped.append("\(shownPath): cannot read it (\(error.localizedDescription))")
            }
            bar.update(done: index + 1, total: items.count)
        }
        bar.finish()
        guard !labels.isEmpty else {
            throw CommandError("none of the \(items.count) images could be decoded, e.g. \(skipped[0]).")
        }
        let evaluation = try Evaluation(scores: scores, labels: labels, classNames: classifier.labels,
                                        identifiers: identifiers)
        print(String(format: "evaluation of %@ on %d %@images of %@ (%.1f images/s)", url.lastPathComponent,
                     labels.count, split == "all" ? "" : "test ", data.path,
                     Double(items.count) / max(Date().timeIntervalSince(start), 1e-9)))
        if !skipped.isEmpty {
            print("skipped \(skipped.count) unreadable images, e.g. \(skipped[0])")
        }
        print(ReportTable.render(evaluation))
        if let report {
            let reportURL = URL(fileURLWithPath: report)
            try evaluation.jsonData().write(to: reportURL, options: .atomic)
            print("report: \(reportURL.path)")
        }
    }
}

/// `bottleneck run`: extract, then train, then evaluate - the command to start with.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Extract every image's vector (cached), train a head, evaluate it on the test split.")

    @OptionGroup var data: ExtractionSettings
    @OptionGroup var training: TrainingSettings

    func run() throws {
        let options = try data.resolve()
        let (output, configuration) = try training.resolve(config: data.config, data: options.data)
        let extractor = try FeatureExtractor(options: options)
        let interrupt = InterruptFlag()
        let bar = ProgressBar(label: "extract")
        let summary = try extractor.run(progress: { bar.update(done: $0, total: $1) }, isCancelled: { interrupt.isSet })
        bar.finish()
        print("extraction: " + summary.line)
        if summary.interrupted { throw ExitCode(130) }
        _ = try HeadPipeline.train(extractor, configuration: configuration, output: output)
        try HeadPipeline.evaluate(extractor, run: output)
    }
}
