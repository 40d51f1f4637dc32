import Foundation

/// Writes structured log lines, one JSON object per line, to standard output (which Lambda sends to CloudWatch
/// Logs, where each line can be queried by field).
///
///     logger.log(.info, "invocation", ["requestId": "8f5…", "status": 200, "durationMs": .double(12.5)])
///     // {"time":"2026-11-25T12:00:00.000Z","level":"INFO","message":"invocation","requestId":"8f5…",...}
///
/// Fields keep the order given. Lines are written with one `write` each, so lines from several threads never mix.
public final class JSONLogger: Sendable {
    /// The severity of a line.
    public enum Level: String, Sendable {
        case info = "INFO"
        case warning = "WARN"
        case error = "ERROR"
    }

    private let output: FileHandle

    /// Creates a logger writing to `output` (standard output by default).
    public init(output: FileHandle = .standardOutput) {
        self.output = output
    }

    /// Writes one line: time, level, message, then `fields` in order.
    public func log(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(level, message, fields: fields.map { ($0.key, $0.value) })
    }

    /// Writes one line: time, level, message, then `fields` in order.
    public func log(_ level: Level, _ message: String, fields: [(String, LogValue)]) {
        output.write(Data(Self.line(level, message, fields: fields, time: Date()).utf8))
    }

    /// The text of one line, newline included.
    static func line(_ level: Level, _ message: String, fields: [(String, LogValue)], time: Date) -> String {
        var parts = ["\"time\":" + LogValue.quoted(timestamp(time)), "\"level\":\"\(level.rawValue)\"",
                     "\"message\":" + LogValue.quoted(message)]
        parts += fields.map { LogValue.quoted($0.0) + ":" + $0.1.json }
        return "{" + parts.joined(separator: ",") + "}\n"
    }

    private static func timestamp(_ time: Date) -> String {
        time.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)
            .timeZone(separator: .omitted))
    }
}
