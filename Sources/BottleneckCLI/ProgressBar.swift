import Foundation

/// Progress of long work on stderr: a redrawn bar (done/total, images/s, ETA) on a terminal, a plain line
/// every few seconds otherwise (logs, CI).
final class ProgressBar {
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var lastLine = Date.distantPast
    private var lastDone = -1

    init(label: String) {
        self.label = label
    }

    func update(done: Int, total: Int) {
        guard done != lastDone, total > 0 else { return }
        let now = Date()
        if !isTerminal && now.timeIntervalSince(lastLine) < 5 && done < total { return }
        lastDone = done
        lastLine = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let status = "\(done)/\(total)  \(String(format: "%.1f", rate)) img/s  ETA \(Self.duration(eta))"
        if isTerminal {
            let width = 30
            let filled = width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(status)\u{1B}[K".utf8))
        } else {
            FileHandle.standardError.write(Data("\(label): \(status)\n".utf8))
        }
    }

    func finish() {
        if isTerminal && lastDone >= 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}
