/// Settings for ``Dataset/scan(folder:options:)`` and ``Dataset/load(manifest:options:)``.
public struct ScanOptions: Sendable, Equatable {
    /// The fractions for images whose split no folder or manifest column fixes. Default 80/10/10.
    public var split: SplitPolicy

    public init(split: SplitPolicy = .default) {
        self.split = split
    }
}
