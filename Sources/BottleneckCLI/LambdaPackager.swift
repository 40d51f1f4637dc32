import BottleneckEngine
import Foundation

/// Builds the zip that AWS Lambda runs on `provided.al2023`: `bootstrap` (the Swift stdlib linked in statically,
/// stripped), `lib/` with every shared library it needs that the runtime image does not provide, and `model.onnx`.
///
/// The package is checked before it is written: no file may need a symbol version newer than provided.al2023 has
/// (`LambdaCompatibility`), and the zip must fit Lambda's limits
/// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). A package that fails a check leaves
/// `output` as it was, so a previous good zip survives.
struct LambdaPackager {
    /// Lambda's limit for a zip uploaded directly (console, `aws lambda create-function --zip-file`): 50 MiB.
    static let directUploadLimit = 50 << 20
    /// Lambda's limit for the unzipped function, layers included: "250 MB", 262,144,000 bytes in its error messages.
    static let unzippedLimit = 262_144_000

    /// The model to serve, stored as `model.onnx` (where the bootstrap looks: `$LAMBDA_TASK_ROOT/model.onnx`).
    var model: URL
    /// The zip to write.
    var output: URL
    /// The Swift package whose `bootstrap` product is built.
    var project: URL
    /// SwiftPM's build folder (`--scratch-path`); nil for `.build/lambda` in the package: the bootstrap's flags
    /// differ from a normal build's, so sharing `.build` would recompile both every time.
    var scratchPath: URL?
    /// The `swift` executable.
    var swift = "swift"
    /// When true, the zip is deployed from S3 (as `sam deploy` does) and may exceed the direct-upload limit.
    var deployingFromS3 = false

    /// What was written.
    struct Package {
        var zip: URL
        var zipBytes: Int
        /// Each file's path in the zip and size, unzipped.
        var files: [(path: String, bytes: Int)]
        /// The newest glibc symbol version any file needs, e.g. `GLIBC_2.34`.
        var newestGLIBC: String
        /// The newest libstdc++ symbol version any file needs, if any needs one.
        var newestGLIBCXX: String?
        var buildSeconds: Double
        var modelIsCombined: Bool

        var unzippedBytes: Int { files.reduce(0) { $0 + $1.bytes } }
        var libraries: [String] { files.map(\.path).filter { $0.hasPrefix("lib/") } }
    }

    /// Builds, checks and zips; `log` receives one line per step.
    /// - Throws: `CommandError` naming the tool that failed, the file and symbol that would not load on
    ///   provided.al2023, or the limit the package exceeds, with what to do.
    func package(log: (String) -> Void) throws -> Package {
        let modelIsCombined = try checkModel()
        for tool in ["strip", "objdump", "ldd", "zip"] { try Self.requireTool(tool) }

        let start = ContinuousClock.now
        let bootstrap = try buildBootstrap(log: log)
        let buildSeconds = Self.seconds(since: start)

        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-lambda-\(UUID())")
        defer { try? FileManager.default.removeItem(at: staging) }
        let libraryFolder = staging.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: libraryFolder, withIntermediateDirectories: true)

        let strippedBootstrap = staging.appendingPathComponent("bootstrap")
        try Self.run("strip", ["--strip-all", "-o", strippedBootstrap.path, bootstrap.path])
        let bootstrapHeaders = try Self.run("objdump", ["-p", strippedBootstrap.path])
        let needed = LambdaCompatibility.neededLibraries(objdumpPrivateHeaders: bootstrapHeaders)
        if let swiftRuntime = needed.first(where: {
            $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") || $0.hasPrefix("lib_Foundation")
        }) {
            throw CommandError("""
                \(bootstrap.path) loads the Swift runtime dynamically (\(swiftRuntime)); Lambda has no Swift \
                runtime: build it with `swift build -c release --product bootstrap --static-swift-stdlib`
                """)
        }
        var files = ["bootstrap"]
        let libraries = LambdaCompatibility.resolvedLibraries(lddOutput: try Self.run("ldd", [strippedBootstrap.path]))
        for (soname, path) in libraries where !LambdaCompatibility.isSystemLibrary(soname) {
            guard let path else {
                throw CommandError("\(bootstrap.path) needs \(soname), which ldd cannot find: install the package "
                    + "that provides it (apt-file search \(soname)) and run package-lambda again")
            }
            // ldd names the soname's symlink: the zip holds the library it points to, under the soname.
            try FileManager.default.copyItem(at: URL(fileURLWithPath: path).resolvingSymlinksInPath(),
                                             to: libraryFolder.appendingPathComponent(soname))
            files.append("lib/\(soname)")
        }
        try FileManager.default.copyItem(at: model.resolvingSymlinksInPath(),
                                         to: staging.appendingPathComponent("model.onnx"))

        var versions = Set<String>()
        var violations: [LambdaCompatibility.Violation] = []
        for file in files {
            let path = staging.appendingPathComponent(file).path
            let headers = try file == "bootstrap" ? bootstrapHeaders : Self.run("objdump", ["-p", path])
            let required = LambdaCompatibility.requiredVersions(objdumpPrivateHeaders: headers)
            versions.formUnion(required)
            let tooNew = required.filter(LambdaCompatibility.isTooNew).sorted()
            if tooNew.isEmpty { continue }
            let symbols = try Self.run("objdump", ["-T", path])
            violations += tooNew.map { version in
                .init(file: file, version: version,
                      symbols: LambdaCompatibility.symbols(requiring: version, objdumpDynamicSymbols: symbols))
            }
        }
        guard violations.isEmpty else {
            throw CommandError("""
                the package would not load on Lambda's provided.al2023 (glibc 2.34, GCC 11's libstdc++ with \
                GLIBCXX_3.4.29, CXXABI_1.3.13):
                \(violations.map { "  \($0)" }.joined(separator: "\n"))
                forward the symbol to an older version of it in Sources/CGlibcCompat (linked into bootstrap), or \
                build on a system no newer than Amazon Linux 2023
                """)
        }
        files.append("model.onnx")
        let sizes = try files.map { ($0, try Self.size(of: staging.appendingPathComponent($0))) }

        let partial = try writePartialZip(of: files, in: staging)
        defer { try? FileManager.default.removeItem(at: partial) }
        let package = Package(
            zip: output, zipBytes: try Self.size(of: partial), files: sizes,
            newestGLIBC: LambdaCompatibility.newest(of: "GLIBC", in: versions) ?? "none",
            newestGLIBCXX: LambdaCompatibility.newest(of: "GLIBCXX", in: versions),
            buildSeconds: buildSeconds, modelIsCombined: modelIsCombined)
        try checkLimits(package)
        try replaceOutput(with: partial)
        return package
    }

    /// Reads the model as the bootstrap will; returns whether it is a combined model (`bottleneck export`).
    private func checkModel() throws -> Bool {
        let graph = try ONNXImporter.importModel(at: model)
        return graph.metadata[CombinedModelContract.formatKey] == CombinedModelContract.format
    }

    /// `swift build -c release --product bootstrap --static-swift-stdlib` with OpenBLAS linked in statically,
    /// SwiftPM's output passed through.
    ///
    /// Debian's libopenblas.so.0 is 35 MiB (10 MiB zipped): LAPACK and the Fortran runtime it needs come with it.
    /// The engine calls only BLAS, so the static archive's BLAS objects (about 6 MiB zipped) are linked instead:
    /// that is what keeps the zip of an EfficientNet-Lite0 model under the 50 MiB direct-upload limit. The
    /// `link "openblas"` of COpenBLAS's module map is switched off for this build, and `-l:libopenblas.a` names
    /// the archive (libopenblas-dev).
    private func buildBootstrap(log: (String) -> Void) throws -> URL {
        let scratch = scratchPath ?? project.appendingPathComponent(".build/lambda")
        let arguments = [
            "build", "-c", "release", "--package-path", project.path, "--scratch-path", scratch.path,
            "--static-swift-stdlib",
            "-Xswiftc", "-Xfrontend", "-Xswiftc", "-disable-autolink-library", "-Xswiftc", "-Xfrontend",
            "-Xswiftc", "openblas", "-Xlinker", "-l:libopenblas.a",
        ]
        log("building: \(swift) \(arguments.joined(separator: " ")) --product bootstrap")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = [swift] + arguments + ["--product", "bootstrap"]
        build.standardInput = FileHandle.nullDevice
        build.standardOutput = FileHandle.standardError
        do {
            try build.run()
        } catch {
            throw CommandError("cannot start \(swift): \(error.localizedDescription); put swift on PATH or pass "
                + "--swift")
        }
        build.waitUntilExit()
        guard build.terminationStatus == 0 else {
            throw CommandError("swift build of the bootstrap product in \(project.path) failed (exit "
                + "\(build.terminationStatus)); its errors are above. Fix them, check that --project is the "
                + "Bottleneck package, and that libopenblas.a is installed (apt-get install libopenblas-dev)")
        }
        let binPath = try Self.run("/usr/bin/env", [swift] + arguments + ["--show-bin-path"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return URL(fileURLWithPath: binPath).appendingPathComponent("bootstrap")
    }

    /// `zip -9` of the staged files into a temporary file next to `output`, which the caller checks and then
    /// renames over `output` (or removes), so that neither a failure nor a failed check touches `output`.
    private func writePartialZip(of files: [String], in staging: URL) throws -> URL {
        let folder = output.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let partial = folder.appendingPathComponent(".\(output.lastPathComponent).\(UUID()).partial.zip")
        do {
            try Self.run("zip", ["-9", "-q", "-X", partial.path] + files, in: staging)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        return partial
    }

    /// Puts the checked zip in place of `output` in one step (rename(2)): readers see the old zip or the new one.
    private func replaceOutput(with partial: URL) throws {
        guard rename(partial.path, output.path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw CommandError("cannot move the new zip to \(output.path): \(reason); check that it is not a "
                + "folder and that its folder is writable")
        }
    }

    private func checkLimits(_ package: Package) throws {
        let problem: String
        if package.unzippedBytes > Self.unzippedLimit {
            problem = "unzipped it is \(Self.mebibytes(package.unzippedBytes)), over Lambda's limit of 250 MB "
                + "(\(Self.unzippedLimit) bytes): use a smaller model"
        } else if !deployingFromS3 && package.zipBytes > Self.directUploadLimit {
            problem = "the zip is \(Self.mebibytes(package.zipBytes)), over Lambda's 50 MiB limit for a direct "
                + "upload: deploy it from S3 (sam deploy does) and pass --via-s3, or use a smaller model"
        } else {
            return
        }
        throw CommandError("\(output.path) not written (left as it was): \(problem)")
    }

    static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private static func size(of url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
    }

    private static func requireTool(_ tool: String) throws {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
        guard found else {
            let package = tool == "zip" ? "zip" : tool == "ldd" ? "libc-bin" : "binutils"
            throw CommandError("package-lambda needs `\(tool)` on PATH: apt-get install \(package)")
        }
    }

    /// Runs `tool` (found on PATH) and returns its standard output; throws with its error output on failure.
    @discardableResult
    private static func run(_ tool: String, _ arguments: [String], in folder: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : "/usr/bin/env")
        process.arguments = tool.hasPrefix("/") ? arguments : [tool] + arguments
        process.currentDirectoryURL = folder
        let (output, errors) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Error output is read on another thread so that neither pipe can fill up and block the tool.
        let errorText = ErrorOutput()
        let reader = Thread { errorText.store(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let message = errorText.wait()
        guard process.terminationStatus == 0 else {
            let command = ([tool] + arguments).joined(separator: " ")
            throw CommandError("`\(command)` failed (exit \(process.terminationStatus)): \(message)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A tool's error output, handed from the thread that reads it.
    private final class ErrorOutput: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var text = ""

        func store(_ data: Data) {
            text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            done.signal()
        }

        func wait() -> String {
            done.wait()
            return text
        }
    }
}
