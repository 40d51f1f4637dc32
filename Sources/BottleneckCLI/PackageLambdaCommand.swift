import ArgumentParser
import Foundation

/// `bottleneck package-lambda`: the zip for AWS Lambda (provided.al2023, x86_64) that serves a combined model;
/// deploy it with configs/lambda/template.yaml.
struct PackageLambdaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package-lambda",
        abstract: "Build the Lambda bootstrap and zip it with its libraries and a combined model.",
        discussion: """
            Builds the `bootstrap` product in release with the Swift stdlib and OpenBLAS linked statically, strips \
            it, adds \
            the shared libraries it needs (never glibc's, libstdc++ or libgcc_s, which provided.al2023 has) in lib/ \
            and the model as model.onnx, checks that no file needs a symbol version newer than Amazon Linux 2023 \
            provides (glibc 2.34, GCC 11), and that the zip fits Lambda's limits.
            """)

    @Option(name: .long, help: "The combined model to serve (bottleneck export).")
    var model: String

    @Option(name: .long, help: "The zip to write.")
    var output: String = "build/lambda.zip"

    @Option(name: .long, help: "The Bottleneck Swift package that has the bootstrap product.")
    var project: String = "."

    @Option(name: .long, help: "SwiftPM's build folder for the bootstrap (default: PROJECT/.build/lambda).")
    var scratchPath: String?

    @Option(name: .long, help: "The swift executable.")
    var swift: String = "swift"

    @Flag(name: .customLong("via-s3"),
          help: "The zip is deployed from S3 (sam deploy does this): allow it over the 50 MiB direct-upload limit.")
    var viaS3 = false

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: model) else {
            throw CommandError("cannot read model '\(model)': give the combined model `bottleneck export` wrote")
        }
        let packager = LambdaPackager(
            model: URL(fileURLWithPath: model), output: URL(fileURLWithPath: output),
            project: URL(fileURLWithPath: project), scratchPath: scratchPath.map { URL(fileURLWithPath: $0) },
            swift: swift, deployingFromS3: viaS3)
        // Unbuffered, so that each step shows before the build's own output (which goes to standard error).
        let package = try packager.package(log: { FileHandle.standardOutput.write(Data("\($0)\n".utf8)) })
        if !package.modelIsCombined {
            print("note: \(model) is not a combined model (no bottleneck.format combined/1): the bootstrap's "
                + "classify mode needs one; write it with `bottleneck export`")
        }
        for file in package.files {
            print("  \(LambdaPackager.mebibytes(file.bytes).padding(toLength: 10, withPad: " ", startingAt: 0)) "
                + file.path)
        }
        print(String(format: "bootstrap built in %.1f s; needs at most %@%@ (provided.al2023: GLIBC_2.34, "
                     + "GLIBCXX_3.4.29)", package.buildSeconds, package.newestGLIBC,
                     package.newestGLIBCXX.map { ", \($0)" } ?? ""))
        print("\(package.zip.path): \(LambdaPackager.mebibytes(package.zipBytes)) zipped "
            + "(\(package.zipBytes) bytes; direct-upload limit 50 MiB), "
            + "\(LambdaPackager.mebibytes(package.unzippedBytes)) unzipped (limit 250 MB), "
            + "\(package.libraries.count) libraries in lib/")
    }
}
