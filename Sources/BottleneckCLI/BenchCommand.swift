import ArgumentParser
import BottleneckEngine
import Foundation

/// Times the backbone on random inputs, printing lines in the same format as shared/bench/ort_bench.py so the
/// two can be compared side by side.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Median latency and images/s of the backbone (bottleneck output) at several batch sizes.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Comma-separated batch sizes.")
    var batch: String = "1,8,32"

    @Option(name: .long, help: "Timed runs per batch size (default: max(3, 64 / batch), as ort_bench.py).")
    var runs: Int?

    @Flag(name: .long, help: "Also print where the time goes, per operator kind, at the first batch size.")
    var profile = false

    func run() throws {
        let batches = batch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !batches.isEmpty, batches.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--batch takes positive integers separated by commas, e.g. 1,8,32.")
        }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let model = try modelOptions.load()
        let loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
        let session = InferenceSession(model: model, threads: modelOptions.threadCount)
        let image = model.inputDimensions.dropFirst().map { $0 ?? 224 }
        var generator = SplitMix64(seed: 42)
        for size in batches {
            let shape = [size] + image
            let input = (0..<shape.reduce(1, *)).map { _ in Float(generator.nextUnit()) }
            _ = try session.run(input, shape: shape)
            let count = runs ?? max(3, 64 / size)
            var times: [Double] = []
            for _ in 0..<count {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try session.run(input, shape: shape)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let median = times.sorted()[times.count / 2]
            print(String(format: "threads=%d bs=%d median %.1f ms/batch  %.1f img/s  load %.0f ms",
                         session.threads, size, median * 1000, Double(size) / median, loadMilliseconds))
        }
        if profile { try printProfile(session, image: image, batch: batches[0], generator: &generator) }
    }

    private func printProfile(_ session: InferenceSession, image: [Int], batch: Int, generator: inout SplitMix64)
        throws
    {
        let shape = [batch] + image
        let input = (0..<shape.reduce(1, *)).map { _ in Float(generator.nextUnit()) }
        var totals: [String: Double] = [:]
        for _ in 0..<5 {
            for (label, seconds) in try session.profile(input, shape: shape) {
                totals[Self.kind(of: label), default: 0] += seconds / 5
            }
        }
        let sum = totals.values.reduce(0, +)
        print("profile at batch \(batch), \(session.threads) threads (mean of 5 runs, \(String(format: "%.2f", sum * 1000)) ms):")
        for (kind, seconds) in totals.sorted(by: { $0.value > $1.value }) {
            print(String(format: "  %7.3f ms  %5.1f%%  ", seconds * 1000, seconds / sum * 100) + kind)
        }
    }

    /// Groups step labels ("name [Kind]") by their operator kind.
    private static func kind(of label: String) -> String {
        guard let open = label.lastIndex(of: "["), label.hasSuffix("]") else { return label }
        return String(label[label.index(after: open)..<label.index(before: label.endIndex)])
    }
}

/// A small deterministic generator for benchmark inputs.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
