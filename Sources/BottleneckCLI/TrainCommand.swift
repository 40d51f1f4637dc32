import ArgumentParser
import BottleneckExtraction
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

/// `bottleneck evaluate`: the run's head on the held-out test split, from cached vectors.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a trained head on the test split: a table, report.json and report.html in its run folder.")

    @Option(name: .customLong("run"), help: "The run folder `train` wrote (holds run.json and head.json).")
    var runFolder: String

    func run() throws {
        let folder = URL(fileURLWithPath: runFolder)
        let options = try RunRecord.read(from: folder).extractionOptions(threads: 1)
        try HeadPipeline.evaluate(try FeatureExtractor(options: options), run: folder)
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
