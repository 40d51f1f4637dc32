import BottleneckEngine
import Foundation
import Testing

/// Small ONNX models covering every supported operator and the classic CNN patterns, run by onnxruntime in
/// scripts/make_op_fixtures.py (`make fixtures`); the engine must reproduce its outputs and refuse the
/// broken models with a clear error.
@Suite struct OperatorFixtureTests {
    struct Index: Decodable {
        struct Case: Decodable {
            struct Port: Decodable {
                let name: String
                let shape: [Int]
            }
            let name: String
            let description: String
            let input: Port
            let output: Port
            let tolerance: Float
        }
        let cases: [Case]
    }

    struct ErrorIndex: Decodable {
        struct Case: Decodable {
            let file: String
            let expect: String
            let description: String
        }
        let cases: [Case]
    }

    static func load<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let url = TestPaths.operatorFixtures.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("missing \(url.path): run `make fixtures` (or `make test`) to generate the operator fixtures")
            throw CocoaError(.fileNoSuchFile)
        }
        return try JSONDecoder().decode(T.self, from: data)
    }

    static let cases = (try? load(Index.self, "index.json").cases) ?? []
    static let errorCases = (try? load(ErrorIndex.self, "errors/index.json").cases) ?? []

    @Test func fixturesArePresent() throws {
        _ = try Self.load(Index.self, "index.json")
        #expect(Self.cases.count >= 25)
        #expect(Self.errorCases.count >= 4)
    }

    // Each case states its own tolerance (1e-4 for single layers, 5e-4 for small networks: float32 summation
    // order differs between our register-tiled SIMD kernels and onnxruntime's).
    @Test(arguments: cases.map(\.name), [1, 2])
    func matchesOnnxRuntime(name: String, threads: Int) throws {
        let fixture = try #require(Self.cases.first { $0.name == name })
        let directory = TestPaths.operatorFixtures
        let model = try InferenceModel(contentsOf: directory.appendingPathComponent("\(name).onnx"),
                                       outputs: [fixture.output.name])
        let input = try TestPaths.floats(directory.appendingPathComponent("\(name).input.f32"))
        let expected = try TestPaths.floats(directory.appendingPathComponent("\(name).output.f32"))
        let session = InferenceSession(model: model, threads: threads)
        let output = try #require(try session.run(input, shape: fixture.input.shape)[fixture.output.name])
        #expect(output.shape == fixture.output.shape, "\(fixture.description)")
        let difference = TestPaths.maximumDifference(output.values, expected)
        #expect(difference <= fixture.tolerance, "\(name): max difference \(difference) > \(fixture.tolerance)")
    }

    @Test(arguments: errorCases.map(\.file))
    func brokenModelsAreRefusedClearly(file: String) throws {
        let fixture = try #require(Self.errorCases.first { $0.file == file })
        let url = TestPaths.operatorFixtures.appendingPathComponent("errors/\(file)")
        #expect {
            _ = try InferenceModel(contentsOf: url, outputs: nil)
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            let matches = fixture.expect.isEmpty || error.message.lowercased().contains(fixture.expect.lowercased())
            if !matches { Issue.record("\(file): message '\(error.message)' lacks '\(fixture.expect)'") }
            return matches
        }
    }

    @Test func missingFileIsAClearError() {
        #expect {
            _ = try InferenceModel(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx"))
        } throws: { error in
            "\(error)".contains("cannot read model '/nonexistent/model.onnx'")
        }
    }
}
