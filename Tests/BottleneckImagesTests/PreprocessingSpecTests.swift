import BottleneckImages
import Foundation
import Testing

/// `bottleneck.preprocessing` parsing and validation.
@Suite struct PreprocessingSpecTests {
    /// Exactly what the project's EfficientNet-Lite0 export carries.
    static let exportedJSON = #"{"channel_order":"RGB","crop":"center","input_size":224,"interpolation":"#
        + #""bilinear-antialias","layout":"NCHW","mean":[127,127,127],"resize_shorter_side":256,"#
        + #""std":[128,128,128]}"#

    @Test func parsesTheExportedMetadata() throws {
        let spec = try PreprocessingSpec(json: Self.exportedJSON)
        #expect(spec == .efficientNetLite0)
        #expect(spec.inputSize == 224 && spec.resizeShorterSide == 256)
        #expect(spec.mean == [127, 127, 127] && spec.std == [128, 128, 128])
        #expect(spec.jsonString() == Self.exportedJSON)
        #expect(try PreprocessingSpec(json: spec.jsonString()) == spec)
    }

    @Test func efficientNetLiteSpecsAreValidAtEveryZooSize() throws {
        #expect(PreprocessingSpec.efficientNetLite(inputSize: 224) == .efficientNetLite0)
        for size in [224, 240, 260, 280, 300] {
            let spec = PreprocessingSpec.efficientNetLite(inputSize: size)
            try spec.validate()
            #expect(spec.inputSize == size && spec.resizeShorterSide == size + 32)
        }
    }

    @Test func acceptsFractionalMeanAndStd() throws {
        let json = Self.exportedJSON.replacingOccurrences(of: "[127,127,127]", with: "[123.675,116.28,103.53]")
            .replacingOccurrences(of: "[128,128,128]", with: "[58.395,57.12,57.375]")
        let spec = try PreprocessingSpec(json: json)
        #expect(spec.mean == [123.675, 116.28, 103.53] && spec.std == [58.395, 57.12, 57.375])
    }

    @Test(arguments: [
        ("\"crop\":\"center\"", "\"crop\":\"random\"", "unsupported crop \"random\""),
        ("\"interpolation\":\"bilinear-antialias\"", "\"interpolation\":\"bicubic\"",
         "unsupported interpolation \"bicubic\""),
        ("\"channel_order\":\"RGB\"", "\"channel_order\":\"RGBA\"", "unsupported channel_order \"RGBA\""),
        ("\"layout\":\"NCHW\"", "\"layout\":\"CHW\"", "unsupported layout \"CHW\""),
        ("\"input_size\":224", "\"input_size\":0", "input_size must be positive, got 0"),
        ("\"resize_shorter_side\":256", "\"resize_shorter_side\":-3", "resize_shorter_side must be positive, got -3"),
        ("\"resize_shorter_side\":256", "\"resize_shorter_side\":200", "must be at least input_size"),
        ("\"std\":[128,128,128]", "\"std\":[128,0,128]", "std must not contain 0"),
        ("\"mean\":[127,127,127]", "\"mean\":[127,127]", "mean must have 3 values"),
        ("\"input_size\":224,", "", "lacks the key \"input_size\""),
        ("\"input_size\":224", "\"input_size\":\"224\"", "\"input_size\" has the wrong type"),
    ])
    func rejectsInvalidSpecs(_ change: (String, String, String)) {
        let json = Self.exportedJSON.replacingOccurrences(of: change.0, with: change.1)
        #expect(json != Self.exportedJSON)
        do {
            _ = try PreprocessingSpec(json: json)
            Issue.record("accepted \(json)")
        } catch let error as PreprocessingSpecError {
            #expect(error.message.contains(change.2), "message: \(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func rejectsNonJSON() {
        #expect(throws: PreprocessingSpecError.self) { try PreprocessingSpec(json: "resize 256, crop 224") }
    }

    @Test func memberwiseInitializerValidates() {
        #expect(throws: PreprocessingSpecError.self) {
            try PreprocessingSpec(inputSize: 224, mean: [0, 0, 0], resizeShorterSide: 256, std: [1, 1, 0])
        }
        #expect(throws: PreprocessingSpecError.self) {
            try PreprocessingSpec(crop: "none", inputSize: 224, mean: [0, 0, 0], resizeShorterSide: 256,
                                  std: [1, 1, 1])
        }
    }
}
