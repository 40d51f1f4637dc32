import BottleneckEngine
import Foundation
import Testing

/// Runs the built `bottleneck` executable as a user would: good inputs succeed, bad ones exit non-zero with a
/// message that names the problem, and nothing crashes.
@Suite struct CommandLineTests {
    struct Result {
        let status: Int32
        let crashed: Bool
        let output: String
        let error: String
    }

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let reference = repository.deletingLastPathComponent().appendingPathComponent("shared/reference")
    static let referenceModel = reference.appendingPathComponent("efficientnet-lite0.onnx").path
    static let golden = reference.appendingPathComponent("golden")

    /// The `bottleneck` binary next to the running test bundle (same build configuration).
    static var executable: URL {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("bottleneck")
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = repository
        let (output, error) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, crashed: process.terminationReason == .uncaughtSignal,
                      output: String(decoding: outputData, as: UTF8.self),
                      error: String(decoding: errorData, as: UTF8.self))
    }

    static func temporaryFile(_ name: String, _ contents: Data) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-cli-\(UUID())-\(name)")
        try contents.write(to: url)
        return url.path
    }

    /// Asserts a clean failure: a non-zero exit status (not a signal) and `message` on stderr.
    static func expectFailure(_ arguments: [String], mentioning message: String) throws {
        let result = try run(arguments)
        #expect(!result.crashed, "crashed: \(result.error)")
        #expect(result.status != 0, "status \(result.status)")
        #expect(result.error.contains(message), "stderr was: \(result.error)")
    }

    @Test func featuresOfAGoldenInput() throws {
        let result = try Self.run(["features", "--model", Self.referenceModel, "--threads", "1",
                                   Self.golden.appendingPathComponent("chelsea.input.f32").path])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("features 1280 values"))
    }

    @Test func classifyRanksTheReferenceClassesFirst() throws {
        let result = try Self.run(["classify", "--model", Self.referenceModel, "--top", "3",
                                   Self.golden.appendingPathComponent("coffee.input.f32").path])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n")
        // expected.json: coffee's top class is 967 (espresso) at 95.67%.
        #expect(lines.count == 4 && lines[1].contains("95.6") && lines[1].contains(" 967 "), "\(result.output)")
    }

    @Test func missingModelFile() throws {
        try Self.expectFailure(["features", "--model", "/nonexistent/model.onnx", "x.f32"],
                               mentioning: "cannot read model '/nonexistent/model.onnx'")
    }

    @Test func truncatedModelFile() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.referenceModel))
        let path = try Self.temporaryFile("truncated.onnx", bytes.prefix(bytes.count / 2))
        try Self.expectFailure(["features", "--model", path, "x.f32"], mentioning: "is not a valid ONNX model")
    }

    @Test func textFileAsModel() throws {
        let path = try Self.temporaryFile("notes.onnx", Data("just some text\n".utf8))
        try Self.expectFailure(["inspect", "--model", path], mentioning: "ONNX")
    }

    @Test func unsupportedOperator() throws {
        let path = Self.repository.appendingPathComponent("Tests/Fixtures/generated/ops/errors/unsupported_lrn.onnx")
        try Self.expectFailure(["inspect", "--model", path.path], mentioning: "operator 'LRN' (node 'lrn_1')")
    }

    @Test func wrongInputShape() throws {
        let path = try Self.temporaryFile("small.f32", Data(count: 3 * 100 * 100 * 4))
        try Self.expectFailure(["features", "--model", Self.referenceModel, path],
                               mentioning: "not a whole number of 3x224x224 float32 images")
    }

    @Test func unknownTensor() throws {
        try Self.expectFailure(["features", "--model", Self.referenceModel, "--tensor", "nope",
                                Self.golden.appendingPathComponent("chelsea.input.f32").path],
                               mentioning: "no tensor named 'nope'")
    }

    @Test func invalidThreadCount() throws {
        try Self.expectFailure(["bench", "--model", Self.referenceModel, "--threads", "0"],
                               mentioning: "--threads must be at least 1")
    }

    // classify at int8 ranks coffee's class first too, and an unknown precision is refused, as a flag and in a
    // config file.
    @Test(.enabled(if: Precision.int8.isSupported, "needs AVX-512 VNNI"))
    func classifyAtInt8() throws {
        let result = try Self.run(["classify", "--model", Self.referenceModel, "--top", "1", "--precision", "int8",
                                   Self.golden.appendingPathComponent("coffee.input.f32").path])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.split(separator: "\n").dropFirst().first?.contains(" 967 ") == true, "\(result.output)")
    }

    @Test func unknownPrecision() throws {
        try Self.expectFailure(["bench", "--model", Self.referenceModel, "--precision", "int4"],
                               mentioning: "'int4' is invalid for '--precision")
        let config = try Self.temporaryFile("config.yaml", Data("data: /tmp\nprecision: bf16\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: config) }
        try Self.expectFailure(["extract", "--config", config], mentioning: "precision must be fp32 or int8, not 'bf16'")
    }
}
