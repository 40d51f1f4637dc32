import BottleneckImages

/// A file (or folder) that is not part of the dataset, and why.
public struct SkippedFile: Sendable, Codable, Hashable {
    /// Why a file was left out.
    public enum Reason: String, Sendable, Codable, CaseIterable, Comparable {
        /// Its name (or a folder above it, up to the class folder) starts with a dot. Hidden folders are counted
        /// once and not entered.
        case hidden
        /// Its first bytes are neither a JPEG nor a PNG signature, whatever its extension says (the detail names
        /// the format when it is recognisable: "a WebP image", "a text file").
        case notAnImage
        /// It is empty (0 bytes).
        case empty
        /// It cannot be opened or read (permissions, a dangling symbolic link, an I/O error).
        case unreadable
        /// Listed in a manifest but not there.
        case missing
        /// A file directly in the data root (or in a split folder), outside any class folder.
        case outsideClassFolder
        /// A folder reached a second time through a symbolic link (a loop, or two links to one folder).
        case revisitedFolder
        /// The header is an image's but decoding failed (recorded by the feature extractor).
        case damaged
        /// The image is larger than the decoder's pixel limit (recorded by the feature extractor).
        case tooLarge

        /// A short phrase for summaries, e.g. "not an image".
        public var phrase: String {
            switch self {
            case .hidden: "hidden"
            case .notAnImage: "not an image"
            case .empty: "empty"
            case .unreadable: "unreadable"
            case .missing: "missing"
            case .outsideClassFolder: "outside any class folder"
            case .revisitedFolder: "folder already scanned (symbolic link loop)"
            case .damaged: "damaged"
            case .tooLarge: "too large"
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// The path, relative to the dataset root when it lies inside it, else absolute.
    public let path: String
    public let reason: Reason
    /// More about the reason, e.g. "WebP" or the decoder's message; nil when the reason says it all.
    public let detail: String?

    public init(path: String, reason: Reason, detail: String? = nil) {
        self.path = path
        self.reason = reason
        self.detail = detail
    }

    /// `path: reason (detail)`, one line.
    public var line: String {
        "\(path): \(reason.phrase)" + (detail.map { " (\($0))" } ?? "")
    }
}

extension SkippedFile.Reason {
    /// The reason matching a decoding error, for files the extractor could not read.
    public init(_ error: ImageError) {
        switch error.code {
        case .unreadable: self = .unreadable
        case .empty: self = .empty
        case .unsupportedFormat: self = .notAnImage
        case .damaged, .encodingFailed: self = .damaged
        case .tooLarge: self = .tooLarge
        }
    }
}
