import Foundation

/// The function's settings, read once from its environment variables at init.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `BOTTLENECK_MODE` | `classify`: image URLs or bytes in, top classes out; `extract`: S3 item batches in, vectors into the cache (see `BatchExtractor.Configuration`) | `classify` |
/// | `BOTTLENECK_MODEL` | the combined model (`bottleneck export`) | `$LAMBDA_TASK_ROOT/model.onnx` |
/// | `BOTTLENECK_THREADS` | inference threads | the CPU count |
/// | `BOTTLENECK_TOP` | classes returned when the request does not say | 5 |
/// | `BOTTLENECK_FETCH_TIMEOUT` | seconds an image download may take | 20 |
/// | `BOTTLENECK_ALLOW_LOOPBACK` | `1`: image URLs may point at 127.0.0.0/8 and ::1 (tests only) | off |
struct BootstrapSettings {
    enum Mode: String {
        case classify
        case extract
    }

    var mode: Mode
    var model: URL
    var threads: Int
    var defaultTop: Int
    var fetchTimeout: Duration
    var allowLoopback: Bool

    /// Reads the settings.
    /// - Throws: `BootstrapError` naming the variable that is malformed, or saying where the model was expected.
    init(environment: [String: String]) throws {
        let modeText = environment["BOTTLENECK_MODE"].flatMap { $0.isEmpty ? nil : $0 } ?? Mode.classify.rawValue
        guard let mode = Mode(rawValue: modeText) else {
            throw BootstrapError("BOTTLENECK_MODE is '\(modeText)'; set it to 'classify' or 'extract'.")
        }
        self.mode = mode
        if let path = environment["BOTTLENECK_MODEL"], !path.isEmpty {
            model = URL(fileURLWithPath: path)
        } else if let root = environment["LAMBDA_TASK_ROOT"], !root.isEmpty {
            model = URL(fileURLWithPath: root).appendingPathComponent("model.onnx")
        } else {
            throw BootstrapError("Neither BOTTLENECK_MODEL nor LAMBDA_TASK_ROOT is set, so the model cannot be found. "
                + "Set BOTTLENECK_MODEL to the combined model's path.")
        }
        threads = try Self.integer("BOTTLENECK_THREADS", environment,
                                   default: ProcessInfo.processInfo.activeProcessorCount, range: 1...64)
        defaultTop = try Self.integer("BOTTLENECK_TOP", environment, default: 5, range: 1...100)
        let timeoutText = environment["BOTTLENECK_FETCH_TIMEOUT"] ?? ""
        if timeoutText.isEmpty {
            fetchTimeout = .seconds(20)
        } else if let seconds = Double(timeoutText), seconds > 0, seconds <= 900 {
            fetchTimeout = .milliseconds(Int64((seconds * 1000).rounded()))
        } else {
            throw BootstrapError("BOTTLENECK_FETCH_TIMEOUT is '\(timeoutText)'; give the download time limit in "
                + "seconds, more than 0 and at most 900.")
        }
        let loopback = environment["BOTTLENECK_ALLOW_LOOPBACK"] ?? ""
        guard ["", "0", "1"].contains(loopback) else {
            throw BootstrapError("BOTTLENECK_ALLOW_LOOPBACK is '\(loopback)'; set it to 1 (tests only) or leave it "
                + "unset.")
        }
        allowLoopback = loopback == "1"
    }

    private static func integer(
        _ name: String, _ environment: [String: String], default value: Int, range: ClosedRange<Int>
    ) throws -> Int {
        guard let text = environment[name], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw BootstrapError("\(name) is '\(text)'; set it to a whole number from \(range.lowerBound) to "
                + "\(range.upperBound), or leave it unset.")
        }
        return number
    }
}
