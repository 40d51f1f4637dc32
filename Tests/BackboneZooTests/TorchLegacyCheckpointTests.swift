@testable import BackboneZoo
import ContentHashing
import Foundation
import Testing

@Suite("Legacy torch checkpoint reader")
struct TorchLegacyCheckpointTests {
    // MARK: Real weights

    /// Values printed by `load_legacy_state_dict` of shared/reference/make_reference.py (numpy) for
    /// efficientnet-lite0-57934424.pth; float32 values survive the print/parse round trip exactly, so they are
    /// compared exactly.
    @Test("reads the Lite0 weights: count, order, shapes, values", .enabled(if: Fixtures.hasWeights, Comment(rawValue: Fixtures.noWeights)))
    func realWeights() throws {
        let checkpoint = try TorchLegacyCheckpoint(contentsOf: try #require(Fixtures.lite0Weights))
        #expect(checkpoint.entries.count == 296)
        #expect(checkpoint.names.prefix(3) == ["_conv_stem.weight", "_bn0.weight", "_bn0.bias"])
        #expect(checkpoint.names.suffix(2) == ["_fc.weight", "_fc.bias"])
        #expect(checkpoint["_conv_stem.weight"]?.shape == [32, 3, 3, 3])
        #expect(checkpoint["_fc.weight"]?.shape == [1000, 1280])
        #expect(checkpoint["_blocks.15._project_conv.weight"]?.shape == [320, 1152, 1, 1])
        #expect(checkpoint["_conv_stem.weight"]?.floats.prefix(3) == [-1.1103360652923584, -1.3087704181671143, -0.010156914591789246])
        #expect(checkpoint["_conv_stem.weight"]?.floats.last == 2.2351741790771484e-08)
        #expect(checkpoint["_fc.weight"]?.floats.prefix(3) == [-0.04561043530702591, -0.09470871090888977, -0.05684146657586098])
        #expect(checkpoint["_fc.weight"]?.floats.last == 0.04085797071456909)
        #expect(checkpoint["_bn0.running_var"]?.floats.prefix(2) == [1.631428599357605, 70.37157440185547])
        let counter = try #require(checkpoint["_bn0.num_batches_tracked"])
        #expect(counter.dtype == .int64 && counter.shape == [] && counter.integers == [0])
        #expect(checkpoint.entries.filter { $0.tensor.dtype == .int64 }.count == 49)
        #expect(checkpoint.floatingPointValueCount - runningStatisticsCount(checkpoint) == 4_652_008)
    }

    /// Every tensor, bit for bit: numpy (via the reference's reader) prints the SHA-256 of each tensor's
    /// little-endian bytes in C order, and we hash ours the same way. No tolerance: both read the same bytes.
    @Test("every tensor equals numpy's reading bit for bit", .enabled(if: Fixtures.hasWeights && Fixtures.hasPython && Fixtures.hasReference, "needs the weights, the venv python and shared/reference"))
    func matchesNumpy() throws {
        let script = """
            import sys, json, hashlib
            sys.path.insert(0, sys.argv[1])
            import make_reference
            sd = make_reference.load_legacy_state_dict(sys.argv[2])
            print(json.dumps([[k, list(v.shape), str(v.dtype), hashlib.sha256(v.astype(v.dtype.newbyteorder('<')).tobytes()).hexdigest()] for k, v in sd.items()]))
            """
        let output = try Fixtures.runPython(script, arguments: [Fixtures.referenceFolder.path, try #require(Fixtures.lite0Weights).path])
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]])
        let checkpoint = try TorchLegacyCheckpoint(contentsOf: try #require(Fixtures.lite0Weights))
        try #require(expected.count == checkpoint.entries.count)
        for (row, entry) in zip(expected, checkpoint.entries) {
            #expect(row[0] as? String == entry.name)
            #expect(row[1] as? [Int] == entry.tensor.shape, "\(entry.name)")
            let hash: String
            if let integers = entry.tensor.integers {
                #expect(row[2] as? String == "int64")
                hash = SHA256.hash(Data(integers.flatMap { LegacyCheckpointWriter.bytes(of: UInt64(bitPattern: $0)) })).hexString
            } else {
                #expect(row[2] as? String == "float32")
                hash = entry.tensor.floats.withUnsafeBufferPointer { SHA256.hash(Data(buffer: $0)).hexString }
            }
            #expect(row[3] as? String == hash, "\(entry.name)")
        }
    }

    private func runningStatisticsCount(_ checkpoint: TorchLegacyCheckpoint) -> Int {
        checkpoint.entries.filter { $0.name.hasSuffix("running_mean") || $0.name.hasSuffix("running_var") }
            .reduce(0) { $0 + $1.tensor.elementCount }
    }

    // MARK: Synthetic checkpoints

    @Test("storage offset, size and stride are honoured (transposed view into a shared storage)")
    func stridedViews() throws {
        var writer = LegacyCheckpointWriter()
        writer.addStorage(key: "s", floats: (0..<10).map(Float.init))
        writer.addView("whole", storageKey: "s", shape: [10])
        // A 2x3 view starting at element 2 with strides (1, 2): rows are [2,4,6] and [3,5,7].
        writer.addView("transposed", storageKey: "s", offset: 2, shape: [2, 3], strides: [1, 2])
        writer.addView("scalar", storageKey: "s", offset: 9, shape: [], strides: [])
        writer.addStorage(key: "l", longs: [7, -3])
        writer.addView("counter", storageKey: "l", offset: 1, shape: [], strides: [])
        writer.addStorage(key: "d", doubles: [0.5, 1e-40])
        writer.addView("double", storageKey: "d", shape: [2])
        writer.addStorage(key: "h", halfBitPatterns: [0x3c00, 0xc000, 0x0001, 0x7c00])  // 1, -2, 2^-24, +inf
        writer.addView("half", storageKey: "h", shape: [4])

        let checkpoint = try TorchLegacyCheckpoint(data: writer.makeData())
        #expect(checkpoint.names == ["whole", "transposed", "scalar", "counter", "double", "half"])
        #expect(checkpoint["whole"]?.floats == (0..<10).map(Float.init))
        #expect(checkpoint["transposed"]?.shape == [2, 3])
        #expect(checkpoint["transposed"]?.floats == [2, 4, 6, 3, 5, 7])
        #expect(checkpoint["scalar"]?.floats == [9])
        #expect(checkpoint["counter"]?.integers == [-3])
        #expect(checkpoint["counter"]?.dtype == .int64)
        #expect(checkpoint["double"]?.floats == [0.5, Float(1e-40)])
        #expect(checkpoint["half"]?.floats == [1, -2, 0x1p-24, .infinity])
    }

    @Test("a view reaching past its storage is an error, not a crash")
    func viewOutOfBounds() throws {
        var writer = LegacyCheckpointWriter()
        writer.addStorage(key: "s", floats: [1, 2, 3])
        writer.addView("bad", storageKey: "s", offset: 1, shape: [3])
        let error = #expect(throws: BackboneZooError.self) { try TorchLegacyCheckpoint(data: writer.makeData()) }
        #expect(error?.code == .malformedCheckpoint)
        #expect(error?.message.contains("bad") == true)
    }

    // MARK: Errors

    @Test("an empty file is not a checkpoint")
    func emptyFile() {
        let error = #expect(throws: BackboneZooError.self) { try TorchLegacyCheckpoint(data: Data()) }
        #expect(error?.code == .notACheckpoint)
        #expect(error?.message.contains("empty") == true)
    }

    @Test("text is not a checkpoint")
    func notAPickle() {
        let error = #expect(throws: BackboneZooError.self) {
            try TorchLegacyCheckpoint(data: Data("version https://git-lfs.github.com/spec/v1\n".utf8))
        }
        #expect(error?.code == .notACheckpoint)
    }

    @Test("every truncation of a checkpoint is reported as truncated")
    func truncatedFile() throws {
        var writer = LegacyCheckpointWriter()
        writer.addTensor("w", shape: [2, 2], values: [1, 2, 3, 4])
        let data = writer.makeData()
        for length in [1, 3, 20, data.count / 2, data.count - 9, data.count - 1] {
            let error = #expect(throws: BackboneZooError.self) { try TorchLegacyCheckpoint(data: data.prefix(length)) }
            #expect(error?.code == .truncated, "cut at \(length) of \(data.count)")
        }
    }

    @Test("a zip checkpoint is recognised and explained")
    func zipCheckpoint() {
        let data = Data([0x50, 0x4b, 0x03, 0x04] + [UInt8](repeating: 0, count: 60))
        let error = #expect(throws: BackboneZooError.self) { try TorchLegacyCheckpoint(data: data) }
        #expect(error?.code == .zipCheckpoint)
        #expect(error?.message.contains("_use_new_zipfile_serialization=False") == true)
    }

    @Test("a global outside the allow-list is refused and named")
    func disallowedGlobal() {
        var bytes = [UInt8](LegacyCheckpointWriter().makeData().prefix(15 + 6))  // magic and protocol pickles
        bytes += [0x80, 2, 0x7d, 0x2e]                                          // system info: {}
        bytes += [0x80, 2, 0x63] + Array("os\nsystem\n".utf8) + [0x58, 4, 0, 0, 0] + Array("echo".utf8)
            + [0x85, 0x52, 0x2e]                                                 // os.system("echo")
        let error = #expect(throws: BackboneZooError.self) { try TorchLegacyCheckpoint(data: Data(bytes)) }
        #expect(error?.code == .disallowedGlobal)
        #expect(error?.message.contains("os.system") == true)
    }

    @Test("an opcode outside the subset is refused and named")
    func unsupportedOpcode() {
        var bytes = [UInt8](LegacyCheckpointWriter().makeData().prefix(15 + 6))
        bytes += [0x80, 2, 0x49] + Array("12\n".utf8) + [0x2e]  // INT (text protocol 0)
        let error = #expect(throws: BackboneZooError.self) { try TorchLegacyCheckpoint(data: Data(bytes)) }
        #expect(error?.code == .unsupportedOpcode)
        #expect(error?.message.contains("0x49") == true)
    }

    @Test("a plain pickle without the torch magic number is not a checkpoint")
    func pickleWithoutMagic() {
        let error = #expect(throws: BackboneZooError.self) {
            try TorchLegacyCheckpoint(data: Data([0x80, 2, 0x7d, 0x2e]))  // pickle.dumps({}, 2)
        }
        #expect(error?.code == .notACheckpoint)
    }
}
