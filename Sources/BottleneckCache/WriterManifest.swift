import Foundation

/// One committed shard, as a manifest lists it.
struct ShardEntry: Codable, Equatable, Sendable {
    /// File name under `shards/`, e.g. `w1-000001.bnks`.
    var name: String
    var count: Int
    var bytes: Int
    /// CRC-32C of the shard body (what its footer holds).
    var crc: UInt32
    /// CRC-32C of the shard's index (what its header holds), so a replaced shard is caught when the index is read.
    var indexCRC: UInt32

    enum CodingKeys: String, CodingKey { case name, count, bytes, crc = "crc32c", indexCRC = "index_crc32c" }

    init(name: String, count: Int, bytes: Int, crc: UInt32, indexCRC: UInt32) {
        (self.name, self.count, self.bytes, self.crc, self.indexCRC) = (name, count, bytes, crc, indexCRC)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        count = try container.decode(Int.self, forKey: .count)
        bytes = try container.decode(Int.self, forKey: .bytes)
        func checksum(_ key: CodingKeys) throws -> UInt32 {
            let hex = try container.decode(String.self, forKey: key)
            guard hex.count == 8, let value = UInt32(hex, radix: 16) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not 8 hex digits")
            }
            return value
        }
        crc = try checksum(.crc)
        indexCRC = try checksum(.indexCRC)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(count, forKey: .count)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(crc.hex8, forKey: .crc)
        try container.encode(indexCRC.hex8, forKey: .indexCRC)
    }
}

/// `manifests/<writer>.json`: the shards one writer has committed, in order. A shard exists for readers once a
/// manifest lists it; each writer rewrites only its own manifest, so writers never conflict.
struct WriterManifest: Codable, Equatable, Sendable {
    static let formatName = "bottleneck-feature-cache-manifest"
    static let currentVersion = 1

    var format: String = WriterManifest.formatName
    var version: Int = WriterManifest.currentVersion
    var namespace: String
    var writer: String
    var dtype: VectorDType
    var dimension: Int
    var shards: [ShardEntry]

    init(namespace: CacheNamespace, writer: String, shards: [ShardEntry] = []) {
        self.namespace = namespace.id
        self.writer = writer
        self.dtype = namespace.dtype
        self.dimension = namespace.dimension
        self.shards = shards
    }

    func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try! encoder.encode(self)  // plain strings and integers always encode
    }

    /// Parses and checks a manifest; the error string says what is wrong with it.
    static func decode(_ data: Data, namespace: CacheNamespace, writer: String) -> Result<WriterManifest, ManifestDamage> {
        let manifest: WriterManifest
        do {
            manifest = try JSONDecoder().decode(WriterManifest.self, from: data)
        } catch {
            return .failure(ManifestDamage(reason: "the manifest is not valid JSON of the expected shape (\(error))"))
        }
        guard manifest.format == formatName else {
            return .failure(ManifestDamage(reason: "the manifest's format is '\(manifest.format)', not '\(formatName)'"))
        }
        guard manifest.version == currentVersion else {
            return .failure(ManifestDamage(reason: "manifest version \(manifest.version) is not supported "
                                           + "(this build reads version \(currentVersion))"))
        }
        guard manifest.namespace == namespace.id, manifest.dtype == namespace.dtype,
              manifest.dimension == namespace.dimension else {
            return .failure(ManifestDamage(reason: "the manifest is for namespace \(manifest.namespace) "
                                           + "(\(manifest.dimension) x \(manifest.dtype.rawValue)), not \(namespace)"))
        }
        guard manifest.writer == writer else {
            return .failure(ManifestDamage(reason: "the manifest names writer '\(manifest.writer)', its file '\(writer)'"))
        }
        for shard in manifest.shards where !FeatureCache.isValidWriterID(shard.name) || !shard.name.hasSuffix(".bnks") {
            return .failure(ManifestDamage(reason: "the manifest lists an invalid shard name '\(shard.name)'"))
        }
        return .success(manifest)
    }
}

struct ManifestDamage: Error {
    let reason: String
}
