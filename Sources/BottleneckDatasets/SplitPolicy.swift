import Foundation

/// How images without a split folder (or manifest split) are divided between training, validation and test.
///
/// The fractions are targets, reached on average: each image's split comes from a hash of its bytes (see
/// ``Dataset`` for the exact rule), so a class of 20 images may end with 15 or 18 training images rather than 16.
public struct SplitPolicy: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Fraction of images for training, in 0...1. Must be positive.
    public var train: Double
    /// Fraction of images for validation, in 0...1.
    public var validation: Double
    /// Fraction of images for test, in 0...1.
    public var test: Double

    /// 80% train, 10% validation, 10% test.
    public static let `default` = SplitPolicy(train: 0.8, validation: 0.1, test: 0.1)

    public init(train: Double, validation: Double, test: Double) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Parses `"80/10/10"` (percentages) or `"0.8/0.1/0.1"` (fractions); commas work as separators too.
    ///
    /// - Throws: ``DatasetError/Code/invalidSplitPolicy`` when there are not three numbers or they are unusable.
    public init(parsing text: String) throws {
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == "," || $0 == ":" })
            .map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let train = parts[0], let validation = parts[1], let test = parts[2] else {
            throw DatasetError(.invalidSplitPolicy,
                               "split '\(text)' is not three numbers: write it as train/validation/test, e.g. 80/10/10")
        }
        let scale = train + validation + test > 1.5 ? 100.0 : 1.0
        self.init(train: train / scale, validation: validation / scale, test: test / scale)
        try validate()
    }

    /// The fraction for one split.
    public subscript(split: DatasetSplit) -> Double {
        switch split {
        case .train: train
        case .validation: validation
        case .test: test
        }
    }

    /// Checks that the fractions are in 0...1, add up to 1 and leave something for training.
    ///
    /// - Throws: ``DatasetError/Code/invalidSplitPolicy`` naming the problem.
    public func validate() throws {
        for split in DatasetSplit.allCases where !(0...1).contains(self[split]) {
            throw DatasetError(.invalidSplitPolicy, "the \(split.rawValue) fraction "
                               + String(format: "%g", self[split]) + " is not in 0...1")
        }
        guard abs(train + validation + test - 1) < 1e-6 else {
            throw DatasetError(.invalidSplitPolicy,
                               "split fractions \(description) add up to "
                               + String(format: "%g", train + validation + test) + ", not 1")
        }
        guard train > 0 else {
            throw DatasetError(.invalidSplitPolicy, "the train fraction is 0: the head would have nothing to learn from")
        }
    }

    /// `80/10/10` style, in percent.
    public var description: String {
        [train, validation, test].map { String(format: "%g", ($0 * 1000).rounded() / 10) }.joined(separator: "/")
    }
}
