@testable import BackboneZoo
import Foundation
import ONNXSchema
import Testing

@Suite("ONNX model builder")
struct ONNXModelBuilderTests {
    @Test("builds, serialises and reads back a small model")
    func roundTrip() throws {
        var graph = ONNXGraphBuilder(name: "tiny")
        graph.addInput(.tensor(name: "x", elementType: .float, dims: ["N", 4]))
        let w = graph.addInitializer(.float32(name: "w", shape: [2, 4], values: [1, 2, 3, 4, 5, 6, 7, -0.5]))
        let shape = graph.addInitializer(.int64(name: "shape", shape: [2], values: [-1, 2]))
        let scalar = graph.addInitializer(.float32(name: "six", shape: [], values: [6]))
        let y = graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: ["x", w], outputs: ["y"],
                                             attributes: ["transB": .int(1), "alpha": .float(1.5)]))
        graph.addNode(Onnx_NodeProto(opType: "Reshape", inputs: [y, shape], outputs: ["z"], name: "reshape"))
        graph.addNode(Onnx_NodeProto(opType: "Custom", inputs: ["z", scalar], outputs: ["out"], attributes: [
            "ints": .ints([1, -2]), "floats": .floats([0.25]), "mode": .string("édge"),
        ]))
        graph.addOutput(.tensor(name: "out", elementType: .float, dims: ["N", 2]))
        let model = graph.makeModel(opsetVersion: 13, metadata: ["a": "1", "b": "two"])

        let folder = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("nested/tiny.onnx")
        let written = try model.write(to: url)
        #expect(try Data(contentsOf: url) == written)
        let back = try Onnx_ModelProto(contentsOf: url)

        #expect(back.irVersion == 8)
        #expect(back.opsetImport.map(\.version) == [13] && back.opsetImport.map(\.domain) == [""])
        #expect(back.metadataProps.map(\.key) == ["a", "b"])
        #expect(back.metadataValue(forKey: "b") == "two")
        let tensors = back.graph.initializer
        #expect(tensors[0].float32Values == [1, 2, 3, 4, 5, 6, 7, -0.5])
        #expect(tensors[0].shape == [2, 4])
        // raw_data is little-endian: 1.0f is 00 00 80 3f.
        #expect(Array(tensors[0].rawData.prefix(4)) == [0, 0, 0x80, 0x3f])
        #expect(tensors[1].int64Values == [-1, 2])
        #expect(tensors[2].shape == [] && tensors[2].float32Values == [6])
        #expect(back.graph.node[0].attribute.map(\.name) == ["transB", "alpha"])
        #expect(back.graph.node[0].attribute(named: "alpha")?.value == .float(1.5))
        #expect(back.graph.node[0].attribute(named: "transB")?.type == .int)
        #expect(back.graph.node[1].name == "reshape")
        #expect(back.graph.node[2].attribute(named: "ints")?.value == .ints([1, -2]))
        #expect(back.graph.node[2].attribute(named: "floats")?.value == .floats([0.25]))
        #expect(back.graph.node[2].attribute(named: "mode")?.value == .string("édge"))
        #expect(back.graph.input.first?.tensorDims == ["N", 4])
        #expect(back.graph.output.first?.tensorDims == [.symbolic("N"), .fixed(2)])

        var edited = back
        edited.setMetadataValue("3", forKey: "a")
        edited.setMetadataValue("new", forKey: "c")
        #expect(edited.metadataProps.map(\.value) == ["3", "two", "new"])
    }

    @Test("onnxruntime accepts and runs a builder-made model", .enabled(if: Fixtures.hasPython, Comment(rawValue: Fixtures.noPython)))
    func runsInOnnxruntime() throws {
        var graph = ONNXGraphBuilder(name: "gemm")
        graph.addInput(.tensor(name: "x", elementType: .float, dims: ["N", 3]))
        let w = graph.addInitializer(.float32(name: "w", shape: [2, 3], values: [1, 0, -1, 0.5, 0.5, 0.5]))
        let b = graph.addInitializer(.float32(name: "b", shape: [2], values: [10, 20]))
        graph.addNode(Onnx_NodeProto(opType: "Gemm", inputs: ["x", w, b], outputs: ["y"], attributes: ["transB": .int(1)]))
        graph.addOutput(.tensor(name: "y", elementType: .float, dims: ["N", 2]))
        let folder = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("gemm.onnx")
        try graph.makeModel(opsetVersion: 13).write(to: url)
        let output = try Fixtures.runPython("""
            import sys, numpy as np, onnx, onnxruntime as ort
            onnx.checker.check_model(sys.argv[1], full_check=True)
            s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])
            print(s.run(None, {'x': np.array([[1, 2, 3]], np.float32)})[0].tolist())
            """, arguments: [url.path])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "[[8.0, 23.0]]")
    }
}
