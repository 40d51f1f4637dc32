import BottleneckDatasets

/// What an extraction run did, for the summary line and the JSON report.
public struct ExtractionSummary: Sendable, Codable {
    /// Usable images in the dataset after scanning.
    public var images: Int
    /// Distinct image contents this shard owns (identical files share one vector).
    public var assigned: Int
    /// Of those, already in the cache.
    public var reused: Int
    /// Of those, computed in this run.
    public var extracted: Int
    /// Files skipped while scanning or decoding, with reasons.
    public var skipped: [SkippedFile]
    /// True when the run was interrupted before finishing; the vectors computed so far are kept.
    public var interrupted: Bool
    public var seconds: Double
    /// The cache namespace (backbone, preprocessing, tensor) the vectors went to.
    public var namespace: String
    /// Damaged or unreadable cache objects found (their images count as missing and are extracted again).
    public var cacheProblems: [String]

    /// `extracted 120, reused 880 from cache, skipped 3, in 4.2 s (28.6 img/s)`.
    public var line: String {
        let rate = seconds > 0 ? Double(extracted) / seconds : 0
        return "extracted \(extracted), reused \(reused) from cache, skipped \(skipped.count)"
            + (interrupted ? ", INTERRUPTED with \(assigned - reused - extracted) left" : "")
            + ", in \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", rate)) img/s)"
    }
}
