import ContentHashing
import Foundation

/// Everything that decides what vector an image gets, other than the image: the backbone's weights, the
/// preprocessing, the tensor read out, and how the vector is stored. Its ``id`` (16 hex digits) is the folder the
/// vectors live in, so changing any of them starts an empty namespace instead of returning stale vectors, and one
/// cache root holds any number of namespaces side by side:
///
///     <root>/<namespace id>/namespace.json
///     <root>/<namespace id>/shards/<writer>-<sequence>.bnks
///     <root>/<namespace id>/manifests/<writer>.json
public struct CacheNamespace: Sendable, Hashable, CustomStringConvertible {
    /// Version of the key derivation; part of the descriptor so that a future change of the rules cannot collide.
    public static let keyVersion = 1

    /// Fingerprint of the backbone, normally the SHA-256 hex of the model file, lowercased.
    public let backboneFingerprint: String
    /// The preprocessing description as canonical JSON (see ``CanonicalJSON``).
    public let preprocessing: String
    /// Name of the bottleneck tensor the vectors are read from.
    public let tensorName: String
    public let dtype: VectorDType
    /// The arithmetic the backbone ran in when it is not fp32 (e.g. "int8-v1"), nil for fp32: its vectors differ,
    /// so they live apart.
    public let arithmetic: String?
    /// Elements per vector, e.g. 1280.
    public let dimension: Int
    /// The canonical JSON descriptor the id is the hash of; written to `namespace.json`.
    public let descriptor: String
    /// The first 16 hex digits of the descriptor's SHA-256.
    public let id: String

    public init(backboneFingerprint: String, preprocessingJSON: String, tensorName: String,
                dtype: VectorDType = .float32, arithmetic: String? = nil, dimension: Int) throws {
        let fingerprint = backboneFingerprint.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !fingerprint.isEmpty else {
            throw CacheError(.invalidNamespace, "the backbone fingerprint is empty; pass the SHA-256 of the model file")
        }
        guard !tensorName.isEmpty else {
            throw CacheError(.invalidNamespace, "the bottleneck tensor name is empty")
        }
        guard dimension > 0, dimension <= Int(UInt32.max) / 4 else {
            throw CacheError(.invalidNamespace, "the vector dimension must be positive and below 2^30, got \(dimension)")
        }
        guard dtype.isSupported else {
            throw CacheError(.unsupportedDType, "\(dtype.rawValue) vectors are not supported on this platform")
        }
        self.backboneFingerprint = fingerprint
        self.preprocessing = try CanonicalJSON.canonicalize(preprocessingJSON)
        self.tensorName = tensorName
        self.dtype = dtype
        self.arithmetic = arithmetic
        self.dimension = dimension
        // Keys in sorted order; an fp32 descriptor has no "arithmetic" key, so its id is what it always was.
        var descriptor = "{"
        if let arithmetic {
            descriptor += "\"arithmetic\":"
            CanonicalJSON.Value.writeString(arithmetic, to: &descriptor)
            descriptor += ","
        }
        descriptor += "\"backbone\":"
        CanonicalJSON.Value.writeString(fingerprint, to: &descriptor)
        descriptor += ",\"dimension\":\(dimension),\"dtype\":\"\(dtype.rawValue)\",\"key_version\":\(Self.keyVersion)"
        descriptor += ",\"preprocessing\":\(preprocessing),\"tensor\":"
        CanonicalJSON.Value.writeString(tensorName, to: &descriptor)
        descriptor += "}"
        self.descriptor = descriptor
        self.id = String(SHA256.hash(Data(descriptor.utf8)).hexString.prefix(16))
    }

    /// The namespace of a model file: its fingerprint is the SHA-256 of the file's bytes.
    public init(modelFile: URL, preprocessingJSON: String, tensorName: String, dtype: VectorDType = .float32,
                arithmetic: String? = nil, dimension: Int) throws {
        let digest: SHA256.Digest
        do {
            digest = try SHA256.hash(contentsOf: modelFile)
        } catch {
            throw CacheError(.invalidNamespace, "cannot read the model file \(modelFile.path) to fingerprint it: \(error)")
        }
        try self.init(backboneFingerprint: digest.hexString, preprocessingJSON: preprocessingJSON,
                      tensorName: tensorName, dtype: dtype, arithmetic: arithmetic, dimension: dimension)
    }

    public var description: String {
        "\(id) (\(tensorName), \(dimension) x \(dtype.rawValue)\(arithmetic.map { ", \($0) backbone" } ?? ""))"
    }

    /// The 8 bytes of the id, written into every shard header so a shard copied into another namespace is rejected.
    var tag: UInt64 { UInt64(id, radix: 16)! }

    public static func == (lhs: CacheNamespace, rhs: CacheNamespace) -> Bool { lhs.descriptor == rhs.descriptor }
    public func hash(into hasher: inout Hasher) { hasher.combine(descriptor) }
}
