import Foundation

/// Every error the dataset module throws: a code to switch on and a message that says what went wrong and what to
/// do next, fit to print as is.
///
/// Damaged or unreadable *images* are not errors: they are skipped and listed in the ``DatasetReport``. These errors
/// are for problems that leave no sensible dataset to work with.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public enum Code: String, Sendable {
        // Finding the data
        /// The data folder or manifest does not exist.
        case notFound
        /// A folder was expected but the path is a file (or the other way round).
        case wrongKind
        /// A folder or file exists but cannot be read.
        case unreadable
        // Layout and manifests
        /// The top level mixes split folders (`train/`, `val/`, `test/`) with class folders.
        case mixedLayout
        /// Two labels differ only in their Unicode normalization (NFC and NFD spellings of the same name).
        case ambiguousLabels
        /// A CSV or JSON manifest cannot be parsed (bad quoting, missing column, empty label, unknown split).
        case malformedManifest
        /// The split fractions are negative, do not add up to 1, or leave nothing for training.
        case invalidSplitPolicy
        // Validation
        /// No usable image is left.
        case noUsableImages
        /// At least one class has no training image.
        case classWithoutTrainingImages
        // Fashion-MNIST and IDX files
        /// The Fashion-MNIST source files are missing.
        case sourceMissing
        /// An IDX file is truncated or not an unsigned-byte IDX file.
        case malformedIDX
        /// A gzip file could not be decompressed.
        case decompressionFailed
        /// A file or folder could not be written.
        case writeFailed
        /// The dataset name is not one `prepare` knows.
        case unknownDataset
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
