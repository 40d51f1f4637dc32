/// The three parts a dataset is divided into: the head learns from `train`, `validation` picks the training
/// settings (epochs, regularisation), and `test` measures the finished model once.
public enum DatasetSplit: String, Sendable, Codable, CaseIterable, Comparable {
    case train
    case validation
    case test

    /// The top-level folder names that fix an image's split (`root/<name>/<label>/...`).
    public var folderNames: [String] {
        switch self {
        case .train: ["train"]
        case .validation: ["val", "validation", "valid"]
        case .test: ["test"]
        }
    }

    /// The split a top-level folder name stands for, if any (exact, lower-case names only).
    public init?(folderName: String) {
        guard let split = Self.allCases.first(where: { $0.folderNames.contains(folderName) }) else { return nil }
        self = split
    }

    /// Parses a manifest's split column: `train`, `validation`, `val`, `valid` or `test`, any case.
    public init?(manifestValue: String) {
        let value = manifestValue.trimmingCharacters(in: .whitespaces).lowercased()
        guard let split = Self.allCases.first(where: { $0.rawValue == value || $0.folderNames.contains(value) })
        else { return nil }
        self = split
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
