/// Assigns splits from content hashes so that adding images never moves old ones (in the common case), then
/// enforces the per-class minimums. The rule is documented on ``Dataset``.
struct StableSplitter {
    struct Entry {
        let label: String
        let contentHash: String
        /// A split fixed by a split folder or a manifest column; nil when the hash decides.
        let fixedSplit: DatasetSplit?
    }

    struct Move {
        let index: Int
        let from: DatasetSplit
        let to: DatasetSplit
    }

    /// Each hashed split's share of [0, 1), in the order train, validation, test; splits with fraction 0 are left
    /// out. The last upper bound is exactly 1.
    let intervals: [(split: DatasetSplit, lower: Double, upper: Double)]

    /// Classes with at least this many distinct movable images get one in every hashed split.
    static let minimumForAllSplits = 3

    /// - Parameters:
    ///   - policy: the fractions, already validated.
    ///   - hashedSplits: the splits the hash chooses among; the policy's fractions are rescaled over them.
    init(policy: SplitPolicy, hashedSplits: Set<DatasetSplit>) {
        let used = DatasetSplit.allCases.filter { hashedSplits.contains($0) && policy[$0] > 0 }
        let total = used.reduce(0) { $0 + policy[$1] }
        var lower = 0.0
        var intervals: [(split: DatasetSplit, lower: Double, upper: Double)] = []
        for (offset, split) in used.enumerated() {
            let upper = offset == used.count - 1 ? 1 : lower + policy[split] / total
            intervals.append((split, lower, upper))
            lower = upper
        }
        self.intervals = intervals
    }

    /// The image's place in [0, 1): the first 8 bytes of its SHA-256, big-endian, divided by 2^64.
    static func position(ofHash hexHash: String) -> Double {
        let value = UInt64(hexHash.prefix(16), radix: 16) ?? 0
        return Double(value >> 11) / Double(1 << 53)  // the top 53 bits: exact in a Double, never rounds up to 1
    }

    /// The split whose interval holds the hash's position.
    func hashSplit(of hexHash: String) -> DatasetSplit {
        let position = Self.position(ofHash: hexHash)
        return intervals.first(where: { position < $0.upper })?.split ?? intervals.last?.split ?? .train
    }

    /// How far a position lies from a split's interval (0 inside it).
    private func distance(from position: Double, to split: DatasetSplit) -> Double {
        guard let interval = intervals.first(where: { $0.split == split }) else { return .infinity }
        if position < interval.lower { return interval.lower - position }
        if position >= interval.upper { return position - interval.upper }
        return 0
    }

    /// The split of every entry (in the order given) and the moves the minimum rule made.
    func assign(_ entries: [Entry]) -> (splits: [DatasetSplit], moves: [Move]) {
        var splits = entries.map { $0.fixedSplit ?? hashSplit(of: $0.contentHash) }
        var moves: [Move] = []

        // Identical bytes under two labels: taught as both classes. They keep their hash split (the same for every
        // copy) and are never moved, so that all copies stay together.
        var labelsByHash: [String: Set<String>] = [:]
        for entry in entries { labelsByHash[entry.contentHash, default: []].insert(entry.label) }

        let hashed = intervals.map(\.split)
        let byLabel = Dictionary(grouping: entries.indices, by: { entries[$0].label })
        for label in byLabel.keys.sorted(by: { $0.precedesInDatasetOrder($1) }) {
            let indices = byLabel[label]!
            // A unit is one distinct image (all its copies move together); only hashed, single-label ones move.
            var units: [String: [Int]] = [:]
            var members: [DatasetSplit: Set<String>] = [:]
            for index in indices {
                let entry = entries[index]
                members[splits[index], default: []].insert(entry.contentHash)
                if entry.fixedSplit == nil, labelsByHash[entry.contentHash]!.count == 1 {
                    units[entry.contentHash, default: []].append(index)
                }
            }
            guard !units.isEmpty else { continue }
            // The splits this class is guaranteed an image in, in the order they are filled.
            let guaranteed = units.count >= Self.minimumForAllSplits
                ? [DatasetSplit.train, .test, .validation].filter(hashed.contains) : [.train]
            let missing = guaranteed.filter { members[$0, default: []].isEmpty }
            var moved: Set<String> = []
            for target in missing {
                // The nearest image to the target's interval, among those whose move leaves no guaranteed split
                // empty.
                let candidates = units.keys.filter { hash in
                    let current = splits[units[hash]![0]]
                    return !moved.contains(hash)
                        && (members[current, default: []].count >= 2 || !guaranteed.contains(current))
                }
                let best = candidates.min { a, b in
                    let (da, db) = (distance(from: Self.position(ofHash: a), to: target),
                                    distance(from: Self.position(ofHash: b), to: target))
                    return da != db ? da < db : a < b
                }
                guard let hash = best else { continue }
                let from = splits[units[hash]![0]]
                members[from]!.remove(hash)
                members[target, default: []].insert(hash)
                moved.insert(hash)
                for index in units[hash]! {
                    splits[index] = target
                    moves.append(Move(index: index, from: from, to: target))
                }
            }
        }
        return (splits, moves)
    }
}
