extension String {
    /// The order of labels and paths everywhere in this module: Swift's string order (Unicode scalar values of the
    /// canonical form, so an NFC and an NFD spelling sort alike, independent of locale), then the raw UTF-8 bytes
    /// to separate spellings that are canonically equal.
    func precedesInDatasetOrder(_ other: String) -> Bool {
        if self != other { return self < other }
        return utf8.lexicographicallyPrecedes(other.utf8)
    }

    /// Whether the name is hidden by the Unix convention (starts with a dot).
    var isHiddenName: Bool { hasPrefix(".") }
}
