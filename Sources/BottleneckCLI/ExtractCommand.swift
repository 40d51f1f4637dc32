import ArgumentParser
import BottleneckCache
import BottleneckDatasets
import BottleneckEngine
import BottleneckExtraction
import Foundation

/// `bottleneck extract`: every image's bottleneck vector, computed once and kept in the feature cache.
struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Compute the bottleneck vector of every image once and keep it in the feature cache.",
        discussion: """
            Settings come from --config (YAML, see configs/) and are overridden by flags. Re-running costs
            nearly nothing; adding images costs one extraction each. Ctrl-C stops cleanly, keeping what is done.
            """)

    @OptionGroup var settings: ExtractionSettings

    @Option(name: .long, help: "Write the summary and the skipped files as JSON to this file.")
    var report: String?

    @Option(name: .long, help: "Write the dataset's split (path, label, split, sha256) to this file (.json or .csv).")
    var manifest: String?

    func run() throws {
        let options = try settings.resolve()
        let extractor = try FeatureExtractor(options: options)
        let total = try extractor.assignedImages().count
        print("data: \(options.data.path) - \(extractor.dataset.items.count) images, \(extractor.dataset.labels.count)"
            + " classes; shard \(options.shard); cache \(options.cache), namespace \(extractor.namespace)")
        if !extractor.dataset.report.skipped.isEmpty { print(extractor.dataset.report.summary(limit: 10)) }
        let interrupt = InterruptFlag()
        let bar = ProgressBar(label: "extract")
        let summary = try extractor.run(progress: { done, total in bar.update(done: done, total: total) },
                                        isCancelled: { interrupt.isSet })
        bar.finish()
        print("\(total) images in this shard: " + summary.line)
        for problem in summary.cacheProblems { print("  cache problem: " + problem) }
        for file in summary.skipped.prefix(20) { print("  skipped " + file.line) }
        if summary.skipped.count > 20 { print("  ... and \(summary.skipped.count - 20) more (see --report)") }
        if let manifest {
            try extractor.dataset.write(to: URL(fileURLWithPath: manifest))
            print("split manifest: \(manifest)")
        }
        if let report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(summary).write(to: URL(fileURLWithPath: report), options: .atomic)
            print("report: \(report)")
        }
        if summary.interrupted {
            print("interrupted: run the same command again to finish; nothing computed so far is lost.")
            throw ExitCode(130)
        }
    }
}
