import Foundation

/// A CloudFormation template of configs/lambda and the project venv's programs that check it (cfn-lint, python).
struct TemplateFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// This file is two folders below the repository root (symlinks resolved, for scratch packages).
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let venv = repository.appendingPathComponent(".venv/bin")
    /// Under CI (`make test` installs the venv) a missing cfn-lint must fail the tests, not skip them.
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: venv.appendingPathComponent("cfn-lint").path)
            || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    static let classifier = TemplateFile(path: "configs/lambda/template.yaml")
    static let extraction = TemplateFile(path: "configs/lambda/extraction.yaml")

    let file: URL

    init(path: String) {
        file = Self.repository.appendingPathComponent(path)
    }

    /// Runs a venv program; returns its exit status and its standard output and error, together.
    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = venv.appendingPathComponent(program)
        process.arguments = arguments
        // cfn-lint works offline; no AWS settings or proxies from the test's environment reach it.
        process.environment = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.lowercased().hasSuffix("_proxy") && !name.hasPrefix("AWS_")
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// A copy of the template with `original` replaced by `replacement` (which must occur exactly once).
    func mutatedCopy(replacing original: String, with replacement: String) throws -> URL {
        let text = try String(contentsOf: file, encoding: .utf8)
        guard text.components(separatedBy: original).count == 2 else {
            throw Failure(description: "'\(original)' does not occur exactly once in \(file.path)")
        }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(file.deletingPathExtension().lastPathComponent)-\(UUID().uuidString).yaml")
        try text.replacingOccurrences(of: original, with: replacement).write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
