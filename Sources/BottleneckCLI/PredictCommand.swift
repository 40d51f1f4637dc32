import ArgumentParser
import BottleneckEngine
import BottleneckServing
import Foundation

/// Classifies image files and image URLs with a combined model (`bottleneck export`), as the Lambda does.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Top-k labels of images (local files or http/https URLs) with a combined model.",
        discussion: """
            URLs are fetched as the Lambda fetches them: http and https only, at most 3 redirects, 5 s to connect \
            and 20 s in total, at most 20 MB, and only from public addresses (loopback, private and link-local \
            ones are refused unless --allow-loopback allows loopback). Files and downloads must be JPEG or PNG.
            """)

    @Option(name: .long, help: "The combined ONNX model written by `bottleneck export`.")
    var model: String

    @Option(name: .long, help: "How many classes to show per image.")
    var top: Int = 5

    @Flag(name: .long, help: "Print one JSON document instead of a table.")
    var json = false

    @Flag(name: .long, help: "Allow URLs on this machine (127.0.0.0/8, ::1), e.g. a local test server.")
    var allowLoopback = false

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Backbone arithmetic: fp32, or int8 on AVX-512 VNNI CPUs (default fp32).")
    var precision: Precision = .float32

    @Argument(help: "Image files or http/https URLs.")
    var inputs: [String]

    /// One input's result, as printed by --json.
    struct Prediction: Codable {
        var input: String
        var top: [ClassScore]
        var fetchSeconds: Double?
        var decodeSeconds: Double
        var inferenceSeconds: Double
    }

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1.") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
        if inputs.isEmpty { throw ValidationError("Pass at least one image file or URL.") }
    }

    func run() throws {
        let classifier = try ImageClassifier(modelAt: URL(fileURLWithPath: model),
                                             threads: threads ?? InferenceSession.defaultThreadCount,
                                             precision: precision)
        var policy = FetchPolicy()
        if allowLoopback { policy.addresses = .allowingLoopback }
        let fetcher = try ImageFetcher(policy: policy)

        var predictions: [Prediction] = []
        for input in inputs {
            let (bytes, fetchSeconds) = try Self.read(input, fetcher: fetcher)
            let classification: Classification
            do {
                classification = try classifier.classify(bytes, top: top)
            } catch {
                throw CommandError("\(input): \(error.message)")
            }
            let prediction = Prediction(input: input, top: classification.top, fetchSeconds: fetchSeconds,
                                        decodeSeconds: classification.decodeSeconds,
                                        inferenceSeconds: classification.inferenceSeconds)
            if json {
                predictions.append(prediction)
            } else {
                Self.printTable(prediction)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(["predictions": predictions]), as: UTF8.self))
        }
    }

    /// The bytes of a file, or of a URL (anything with a scheme) with the download time.
    private static func read(_ input: String, fetcher: ImageFetcher) throws -> (Data, Double?) {
        if input.contains("://") {
            let start = ContinuousClock.now
            do {
                let bytes = try fetcher.fetch(input)
                let (seconds, attoseconds) = (ContinuousClock.now - start).components
                return (bytes, Double(seconds) + Double(attoseconds) * 1e-18)
            } catch {
                throw CommandError(error.message)
            }
        }
        guard let bytes = FileManager.default.contents(atPath: input) else {
            throw CommandError("cannot read '\(input)': no such file or not readable. Pass an image file or an "
                + "http/https URL.")
        }
        return (bytes, nil)
    }

    private static func printTable(_ prediction: Prediction) {
        print(prediction.input)
        for score in prediction.top {
            print(String(format: "  %6.2f%%  %4d  ", score.score * 100, score.index) + score.label)
        }
    }
}
