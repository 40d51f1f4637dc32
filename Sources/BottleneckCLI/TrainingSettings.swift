import ArgumentParser
import BottleneckTraining
import Foundation
import Yams

/// Head-training settings: the `training:` section and `output:` of the YAML config, overridden by flags.
struct TrainingSettings: ParsableArguments {
    @Option(name: .long, help: "Run folder for the head, metrics and reports (default: runs/<data folder name>).")
    var output: String?

    @Option(name: .long, help: "softmax (default) or hidden (one ReLU layer with dropout).")
    var head: String?

    @Option(name: .long, help: "Training epochs (default 30).")
    var epochs: Int?

    @Option(name: .long, help: "Learning rate (default 0.001).")
    var learningRate: Float?

    @Option(name: .long, help: "sgd, adam or adamw (default adamw).")
    var optimizer: String?

    @Option(name: .long, help: "Seed of shuffling and dropout; the same seed gives bit-identical heads (default 0).")
    var seed: UInt64?

    /// The config file's keys for training, all optional; see configs/fashion-mnist.yaml for their defaults.
    struct File: Decodable {
        var output: String?
        var training: Section?
    }

    struct Section: Decodable {
        var head: String?
        var hiddenUnits: Int?
        var dropout: Float?
        var epochs: Int?
        var batchSize: Int?
        var optimizer: String?
        var momentum: Float?
        var nesterov: Bool?
        var learningRate: Float?
        var schedule: String?
        var warmupEpochs: Int?
        var stepEvery: Int?
        var stepFactor: Float?
        var labelSmoothing: Float?
        var weightDecay: Float?
        var classWeights: ClassWeightsSetting?
        var earlyStoppingPatience: Int?
        var seed: UInt64?
        var standardize: Bool?

        enum CodingKeys: String, CodingKey {
            case head, dropout, epochs, optimizer, momentum, nesterov, schedule, seed, standardize
            case hiddenUnits = "hidden_units", batchSize = "batch_size", learningRate = "learning_rate"
            case warmupEpochs = "warmup_epochs", stepEvery = "step_every", stepFactor = "step_factor"
            case labelSmoothing = "label_smoothing", weightDecay = "weight_decay", classWeights = "class_weights"
            case earlyStoppingPatience = "early_stopping_patience"
        }
    }

    /// `class_weights:` is `none`, `balanced`, or a map from class name to weight (unlisted classes weigh 1).
    enum ClassWeightsSetting: Decodable {
        case named(String)
        case explicit([String: Float])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let map = try? container.decode([String: Float].self) {
                self = .explicit(map)
            } else {
                self = .named(try container.decode(String.self))
            }
        }
    }

    /// The run folder and the training configuration, from `config` (if any), the flags and the defaults.
    func resolve(config: String?, data: URL) throws -> (output: URL, configuration: TrainingConfiguration) {
        var file = File()
        if let config, let text = FileManager.default.contents(atPath: config) {
            do {
                file = try YAMLDecoder().decode(File.self, from: String(decoding: text, as: UTF8.self))
            } catch {
                throw ValidationError("config file '\(config)' is not valid: \(error)")
            }
        }
        let section = file.training ?? Section()
        let defaults = TrainingConfiguration()
        var configuration = defaults
        switch head ?? section.head ?? "softmax" {
        case "softmax": configuration.head = .softmax
        case "hidden": configuration.head = .hidden(units: section.hiddenUnits ?? 256, dropout: section.dropout ?? 0.2)
        case let other: throw ValidationError("head must be softmax or hidden, not '\(other)'.")
        }
        switch optimizer ?? section.optimizer ?? "adamw" {
        case "sgd": configuration.optimizer = .sgd(momentum: section.momentum ?? 0.9, nesterov: section.nesterov ?? false)
        case "adam": configuration.optimizer = .adam
        case "adamw": configuration.optimizer = .adamw
        case let other: throw ValidationError("optimizer must be sgd, adam or adamw, not '\(other)'.")
        }
        switch section.schedule ?? "cosine" {
        case "constant": configuration.schedule = .constant
        case "step": configuration.schedule = .step(every: section.stepEvery ?? 10, factor: section.stepFactor ?? 0.1)
        case "cosine": configuration.schedule = .cosine(warmupEpochs: section.warmupEpochs ?? 2)
        case let other: throw ValidationError("schedule must be constant, step or cosine, not '\(other)'.")
        }
        switch section.classWeights ?? .named("none") {
        case .named("none"): configuration.classWeights = .none
        case .named("balanced"): configuration.classWeights = .balanced
        case .explicit(let weights): configuration.classWeights = .explicit(weights)
        case .named(let other):
            throw ValidationError("class_weights must be none, balanced or a map of class: weight, not '\(other)'.")
        }
        configuration.epochs = epochs ?? section.epochs ?? defaults.epochs
        configuration.batchSize = section.batchSize ?? defaults.batchSize
        configuration.learningRate = learningRate ?? section.learningRate ?? defaults.learningRate
        configuration.labelSmoothing = section.labelSmoothing ?? defaults.labelSmoothing
        configuration.weightDecay = section.weightDecay ?? defaults.weightDecay
        configuration.earlyStoppingPatience = section.earlyStoppingPatience ?? defaults.earlyStoppingPatience
        configuration.seed = seed ?? section.seed ?? defaults.seed
        configuration.standardize = section.standardize ?? defaults.standardize
        try configuration.validate()
        let folder = output ?? file.output ?? "runs/\(data.lastPathComponent)"
        return (URL(fileURLWithPath: folder), configuration)
    }
}
