import BottleneckDatasets
import BottleneckImages
import Foundation
import Testing

/// IDX parsing, and Fashion-MNIST written out from Debian's dataset-fashion-mnist package.
@Suite struct FashionMNISTTests {
    /// Under CI (`make test` installs every prerequisite) nothing is skipped: missing files must fail loudly.
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let debianFilesPresent = FileManager.default.fileExists(
        atPath: FashionMNIST.debianFolder.appendingPathComponent("train-images-idx3-ubyte.gz").path)
    static let noDebianFiles = "needs Debian's Fashion-MNIST files in /usr/share/datasets/fashion-mnist: "
        + "apt-get install dataset-fashion-mnist"

    static func idxBytes(type: UInt8 = 0x08, dimensions: [Int], values: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
        for size in dimensions { bytes += withUnsafeBytes(of: UInt32(size).bigEndian, Array.init) }
        return bytes + values
    }

    @Test func idxFilesAreParsed() throws {
        let values = (0..<24).map { UInt8($0) }
        let file = try IDXFile(bytes: Self.idxBytes(dimensions: [2, 3, 4], values: values))
        #expect(file.dimensions == [2, 3, 4])
        #expect(file.count == 2)
        #expect(Array(file.item(1)) == Array(12..<24).map { UInt8($0) })

        let labels = try IDXFile(bytes: Self.idxBytes(dimensions: [3], values: [9, 0, 4]))
        #expect(labels.values == [9, 0, 4])

        let failures: [([UInt8], String)] = [
            (Self.idxBytes(dimensions: [2, 3, 4], values: Array(values.dropLast())), "promises 24 values"),
            (Self.idxBytes(type: 0x0D, dimensions: [2], values: [0, 0]), "not unsigned bytes"),
            ([1, 2, 3, 4], "not an IDX file"),
            ([0, 0, 8, 3, 0, 0], "cut short"),
        ]
        for (bytes, message) in failures {
            let error = #expect(throws: DatasetError.self) { try IDXFile(bytes: bytes, name: "x.idx") }
            #expect(error?.code == .malformedIDX)
            #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        }
    }

    @Test func gzippedIDXFilesAreDecompressed() throws {
        let data = try TestData()
        defer { data.remove() }
        let raw = try data.write(Self.idxBytes(dimensions: [2, 2], values: [1, 2, 3, 4]), "labels-idx2-ubyte")
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -k \"$0\"", raw.path]
        try gzip.run()
        gzip.waitUntilExit()
        try #require(gzip.terminationStatus == 0)
        let file = try IDXFile(contentsOf: data.url("labels-idx2-ubyte.gz"))
        #expect(file.dimensions == [2, 2])
        #expect(file.values == [1, 2, 3, 4])

        try data.write([0x1F, 0x8B, 0x08, 0x00, 0x01], "broken.gz")
        let error = #expect(throws: DatasetError.self) { try IDXFile(contentsOf: data.url("broken.gz")) }
        #expect(error?.code == .decompressionFailed)
    }

    @Test func missingSourceFilesSayHowToInstallThem() throws {
        let data = try TestData()
        defer { data.remove() }
        let error = #expect(throws: DatasetError.self) {
            try FashionMNIST.prepare(into: data.url("out"), perClass: 1, source: data.root)
        }
        #expect(error?.code == .sourceMissing)
        #expect(error?.message.contains("apt-get install dataset-fashion-mnist") == true)
    }

    @Test func classFoldersHaveNoSlash() {
        #expect(FashionMNIST.folderNames == ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                             "Sneaker", "Bag", "Ankle boot"])
    }

    @Test(.enabled(if: debianFilesPresent || isCI, Comment(rawValue: noDebianFiles)))
    func prepareWritesThreeImagesPerClassFromTheDebianFiles() throws {
        let data = try TestData()
        defer { data.remove() }
        let output = data.url("fashion-mnist")
        var lines: [String] = []
        let first = try FashionMNIST.prepare(into: output, perClass: 3, progress: { lines.append($0) })
        #expect(first.map(\.split) == [.train, .test])
        #expect(first.map(\.images) == [30, 30])
        #expect(first.map(\.written) == [30, 30])
        #expect(lines.last == "test: 30 images in 10 classes: 30 written, 0 unchanged, 0 removed")

        // Item 0 of both files is an ankle boot (label 9); its PNG holds exactly the IDX pixels.
        let (images, labels) = try FashionMNIST.read(.train)
        #expect(images.dimensions == [60000, 28, 28])
        #expect(labels.values[0] == 9)
        let boot = try Data(contentsOf: output.appendingPathComponent("train/Ankle boot/00000.png"))
        #expect(Array(boot) == (try PNGEncoder.encodeGrayscale(width: 28, height: 28, pixels: Array(images.item(0)))))

        // A second run changes nothing; a smaller selection removes the extra files.
        let second = try FashionMNIST.prepare(into: output, perClass: 3)
        #expect(second.map(\.unchanged) == [30, 30])
        #expect(second.map(\.written) == [0, 0])
        let third = try FashionMNIST.prepare(into: output, perClass: 2)
        #expect(third.map(\.removed) == [10, 10])

        let dataset = try Dataset.scan(folder: output)
        #expect(dataset.labels == FashionMNIST.folderNames.sorted())
        #expect(dataset.items.count == 40)
        #expect(dataset.items(in: .test).count == 20)
        #expect(dataset.report.skipped.isEmpty)
        try dataset.validate()
    }
}
