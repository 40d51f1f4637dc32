import Foundation
@testable import BottleneckEvaluation

/// Paths and helpers shared by the tests.
enum TestSupport {
    /// The package root, found from this file through any symlinked test folder.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()

    /// True when the environment demands that optional tools be present (CI=true).
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// A deterministic generator (SplitMix64), so failures reproduce.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A random classification problem: softmax probabilities in which the true class usually, not always, wins.
    static func randomProblem(count: Int, classes: Int, seed: UInt64) -> (scores: [Float], labels: [Int]) {
        var rng = SeededGenerator(state: seed)
        var scores: [Float] = []
        var labels: [Int] = []
        for _ in 0..<count {
            let label = Int.random(in: 0..<classes, using: &rng)
            var logits = (0..<classes).map { _ in Double.random(in: -2...2, using: &rng) }
            logits[label] += Double.random(in: 0...2.5, using: &rng)
            let top = logits.max()!
            let exps = logits.map { exp($0 - top) }
            let sum = exps.reduce(0, +)
            scores += exps.map { Float($0 / sum) }
            labels.append(label)
        }
        return (scores, labels)
    }

    /// Runs a program to completion and returns its standard output; throws on a non-zero exit.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently with the child so neither fills and blocks it.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let stdout = String(decoding: outData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ProcessFailure(status: process.terminationStatus, stdout: stdout,
                                 stderr: String(decoding: errData, as: UTF8.self))
        }
        return stdout
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        let status: Int32
        let stdout: String
        let stderr: String
        var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }
}
