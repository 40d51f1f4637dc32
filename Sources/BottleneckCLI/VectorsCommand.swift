import ArgumentParser
import BottleneckDatasets
import BottleneckExtraction
import Foundation

/// `bottleneck vectors`: the cached vectors of every split as NumPy files, for other tools (and the scikit-learn
/// baseline of the training benchmark).
struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Write the cached vectors and labels of each split as .npy files (X_train.npy, y_train.npy, ...).")

    @OptionGroup var data: ExtractionSettings

    @Option(name: .long, help: "Folder for the .npy files.")
    var output: String

    func run() throws {
        let extractor = try FeatureExtractor(options: try data.resolve())
        let folder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for split in DatasetSplit.allCases {
            let vectors = try extractor.labelledVectors(in: split)
            let name = split.rawValue
            try NumpyFile.float32(vectors.vectors, shape: [vectors.count, vectors.dimension])
                .write(to: folder.appendingPathComponent("X_\(name).npy"), options: .atomic)
            try NumpyFile.int64(vectors.labels.map(Int64.init), shape: [vectors.count])
                .write(to: folder.appendingPathComponent("y_\(name).npy"), options: .atomic)
            print("\(name): \(vectors.count) x \(vectors.dimension)")
        }
        try JSONEncoder().encode(extractor.dataset.labels)
            .write(to: folder.appendingPathComponent("labels.json"), options: .atomic)
        print("wrote X_*.npy, y_*.npy and labels.json to \(folder.path)")
    }
}

/// NumPy's `.npy` format, version 1.0: magic, a padded header dict, then little-endian C-order data.
enum NumpyFile {
    static func float32(_ values: [Float], shape: [Int]) -> Data {
        file(descriptor: "<f4", shape: shape, body: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    static func int64(_ values: [Int64], shape: [Int]) -> Data {
        file(descriptor: "<i8", shape: shape, body: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    private static func file(descriptor: String, shape: [Int], body: Data) -> Data {
        let dimensions = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(dimensions), }"
        // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(body)
        return data
    }
}
