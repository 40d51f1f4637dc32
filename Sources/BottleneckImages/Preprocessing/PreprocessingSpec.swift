import Foundation

/// How a backbone wants its input images prepared: the model metadata entry `bottleneck.preprocessing`.
///
/// ```json
/// {"channel_order":"RGB","crop":"center","input_size":224,"interpolation":"bilinear-antialias",
///  "layout":"NCHW","mean":[127,127,127],"resize_shorter_side":256,"std":[128,128,128]}
/// ```
///
/// The image is resized so its shorter side is `resizeShorterSide` (each side `round(side * scale)`, ties to
/// even, as Python's `round`), the centered `inputSize` x `inputSize` square is cut out (offsets rounded down),
/// and every 8-bit value becomes `(value - mean[c]) / std[c]`. `layout` is the model input's layout; the
/// `Preprocessor` always writes NHWC, which the engine accepts for either.
///
/// Decoding (`init(from:)`, `init(json:)`) validates the values; the memberwise initializer does too.
public struct PreprocessingSpec: Codable, Sendable, Equatable {
    /// Channel order of the model input: `"RGB"` or `"BGR"`.
    public var channelOrder: String
    /// The crop after resizing; only `"center"` is supported.
    public var crop: String
    /// Side of the square model input, in pixels.
    public var inputSize: Int
    /// Resampling filter; only `"bilinear-antialias"` (Pillow's `Image.BILINEAR`) is supported.
    public var interpolation: String
    /// The model input's tensor layout, `"NCHW"` or `"NHWC"` (informational: the preprocessor writes NHWC).
    public var layout: String
    /// Per-channel value subtracted from the 0...255 pixel values, in `channelOrder`.
    public var mean: [Float]
    /// The length the shorter image side is resized to before cropping; at least `inputSize`.
    public var resizeShorterSide: Int
    /// Per-channel divisor applied after subtracting `mean`, in `channelOrder`; never 0.
    public var std: [Float]

    /// The metadata key under which models carry this JSON.
    public static let metadataKey = "bottleneck.preprocessing"

    public static let supportedChannelOrders = ["RGB", "BGR"]
    public static let supportedCrops = ["center"]
    public static let supportedInterpolations = ["bilinear-antialias"]
    public static let supportedLayouts = ["NCHW", "NHWC"]

    /// EfficientNet-Lite0 as exported by the project (TensorFlow weights): shorter side 256, center crop 224,
    /// `(v - 127) / 128`.
    public static let efficientNetLite0 = efficientNetLite(inputSize: 224)

    /// EfficientNet-Lite's preprocessing at resolution `inputSize`: the weights come from TensorFlow, whose
    /// EfficientNet evaluation crops the central `S / (S + 32)` of the shorter side (CROP_PADDING = 32), so the
    /// shorter side is resized to `S + 32` before the center crop — 256 for Lite0's 224, as in the reference.
    /// Normalisation is (v - 127) / 128, TF-Lite's for these models; RGB, NCHW, Pillow's antialiased bilinear.
    /// - Precondition: `inputSize` is positive and at most 16352 (the resized side's limit minus 32).
    public static func efficientNetLite(inputSize: Int) -> PreprocessingSpec {
        precondition(inputSize > 0 && inputSize + 32 <= 16384, "input size must be in 1...16352, got \(inputSize)")
        // Valid by construction: positive sizes, shorter side above the input size, three finite non-zero values.
        return PreprocessingSpec(
            uncheckedChannelOrder: "RGB", crop: "center", inputSize: inputSize, interpolation: "bilinear-antialias",
            layout: "NCHW", mean: [127, 127, 127], resizeShorterSide: inputSize + 32, std: [128, 128, 128])
    }

    /// Creates and validates a spec.
    /// - Throws: `PreprocessingSpecError` for unknown names, sizes below 1 or a shorter side below the input
    ///   size, mean/std without exactly 3 finite values, or a std of 0.
    public init(channelOrder: String = "RGB", crop: String = "center", inputSize: Int,
                interpolation: String = "bilinear-antialias", layout: String = "NCHW", mean: [Float],
                resizeShorterSide: Int, std: [Float]) throws
    {
        self.init(uncheckedChannelOrder: channelOrder, crop: crop, inputSize: inputSize,
                  interpolation: interpolation, layout: layout, mean: mean, resizeShorterSide: resizeShorterSide,
                  std: std)
        try validate()
    }

    /// Parses and validates the metadata JSON.
    /// - Throws: `PreprocessingSpecError` when the text is not JSON, lacks a key, has a value of the wrong type or
    ///   fails validation (see `init(channelOrder:crop:inputSize:interpolation:layout:mean:resizeShorterSide:std:)`).
    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(PreprocessingSpec.self, from: Data(json.utf8))
        } catch let error as PreprocessingSpecError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw PreprocessingSpecError("\(Self.metadataKey) lacks the key \"\(key.stringValue)\".")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw PreprocessingSpecError("\(Self.metadataKey): \"\(path)\" has the wrong type"
                + " (\(context.debugDescription)).")
        } catch {
            throw PreprocessingSpecError("\(Self.metadataKey) is not valid JSON: \(json.prefix(200))")
        }
    }

    private init(uncheckedChannelOrder channelOrder: String, crop: String, inputSize: Int, interpolation: String,
                 layout: String, mean: [Float], resizeShorterSide: Int, std: [Float])
    {
        self.channelOrder = channelOrder
        self.crop = crop
        self.inputSize = inputSize
        self.interpolation = interpolation
        self.layout = layout
        self.mean = mean
        self.resizeShorterSide = resizeShorterSide
        self.std = std
    }

    enum CodingKeys: String, CodingKey {
        case channelOrder = "channel_order"
        case crop
        case inputSize = "input_size"
        case interpolation
        case layout
        case mean
        case resizeShorterSide = "resize_shorter_side"
        case std
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            uncheckedChannelOrder: try container.decode(String.self, forKey: .channelOrder),
            crop: try container.decode(String.self, forKey: .crop),
            inputSize: try container.decode(Int.self, forKey: .inputSize),
            interpolation: try container.decode(String.self, forKey: .interpolation),
            layout: try container.decode(String.self, forKey: .layout),
            mean: try container.decode([Float].self, forKey: .mean),
            resizeShorterSide: try container.decode(Int.self, forKey: .resizeShorterSide),
            std: try container.decode([Float].self, forKey: .std))
        try validate()
    }

    /// The spec as compact JSON with sorted keys, the form models carry.
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, integers and finite floats cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// Checks every field; the first problem found is thrown.
    public func validate() throws {
        func check(_ value: String, _ field: String, _ allowed: [String]) throws {
            guard allowed.contains(value) else {
                throw PreprocessingSpecError("unsupported \(field) \"\(value)\" in \(Self.metadataKey); supported: "
                    + allowed.map { "\"\($0)\"" }.joined(separator: ", ") + ".")
            }
        }
        try check(channelOrder, "channel_order", Self.supportedChannelOrders)
        try check(crop, "crop", Self.supportedCrops)
        try check(interpolation, "interpolation", Self.supportedInterpolations)
        try check(layout, "layout", Self.supportedLayouts)
        guard inputSize > 0 else {
            throw PreprocessingSpecError("input_size must be positive, got \(inputSize).")
        }
        guard resizeShorterSide > 0 else {
            throw PreprocessingSpecError("resize_shorter_side must be positive, got \(resizeShorterSide).")
        }
        guard resizeShorterSide >= inputSize else {
            throw PreprocessingSpecError("resize_shorter_side (\(resizeShorterSide)) must be at least input_size"
                + " (\(inputSize)): the center crop has to fit inside the resized image.")
        }
        // Guards the fixed-size buffers and Int32 arithmetic of the resampler against absurd metadata.
        guard resizeShorterSide <= 16384 else {
            throw PreprocessingSpecError("resize_shorter_side must be at most 16384, got \(resizeShorterSide).")
        }
        for (name, values) in [("mean", mean), ("std", std)] {
            guard values.count == 3 else {
                throw PreprocessingSpecError("\(name) must have 3 values (one per channel), got \(values.count).")
            }
            guard values.allSatisfy(\.isFinite) else {
                throw PreprocessingSpecError("\(name) must be finite, got \(values).")
            }
        }
        guard !std.contains(0) else {
            throw PreprocessingSpecError("std must not contain 0 (it divides), got \(std).")
        }
    }
}

/// A `bottleneck.preprocessing` entry that cannot be used.
public struct PreprocessingSpecError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
