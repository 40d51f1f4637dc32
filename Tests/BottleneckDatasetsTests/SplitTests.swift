import BottleneckDatasets
import BottleneckImages
import Foundation
import Testing

/// The content-hash split: stable when images are added, with per-class minimums, duplicates kept together.
@Suite struct SplitTests {
    static let labels = ["ant", "bee", "cow", "dog"]

    @Test func addingImagesMovesNoOldImage() throws {
        let data = try TestData()
        defer { data.remove() }
        // JPEG-signed bytes of our own making: their hashes (and so this fixture's split) never change with a
        // PNG encoder's version.
        for (classIndex, label) in Self.labels.enumerated() {
            for index in 0..<50 { try data.write(TestData.jpegSigned(classIndex * 10_000 + index), "\(label)/\(index).jpg") }
        }
        let before = try Dataset.scan(folder: data.root)
        #expect(before.items.count == 200)
        #expect(before.report.reassigned.isEmpty, "every class has a hash-placed image in every split")
        let trainShare = Double(before.items(in: .train).count) / 200
        #expect((0.7...0.9).contains(trainShare), "train share \(trainShare)")

        for index in 0..<50 {
            let label = Self.labels[index % 4]
            try data.write(TestData.jpegSigned(500_000 + index), "\(label)/new/\(index).jpg")
        }
        let after = try Dataset.scan(folder: data.root)
        #expect(after.items.count == 250)
        let old = before.splitsByPath
        let new = after.splitsByPath
        let moved = old.filter { new[$0.key] != $0.value }
        #expect(moved.isEmpty, "moved: \(moved)")
    }

    @Test func everyClassOfThreeGetsAValidationAndATestImage() throws {
        let data = try TestData()
        defer { data.remove() }
        // 30 classes of 3 to 5 images: at 80/10/10 most of them have no hash-placed validation or test image.
        for classIndex in 0..<30 {
            for index in 0..<(3 + classIndex % 3) { try data.png(classIndex * 100 + index, "c\(classIndex)/\(index).png") }
        }
        try data.png(9001, "pair/a.png")
        try data.png(9002, "pair/b.png")
        try data.png(9003, "single/a.png")

        let dataset = try Dataset.scan(folder: data.root)

        let counts = dataset.counts
        for classIndex in 0..<30 {
            let perSplit = counts["c\(classIndex)"] ?? [:]
            for split in DatasetSplit.allCases {
                #expect((perSplit[split] ?? 0) >= 1, "c\(classIndex) has no \(split) image: \(perSplit)")
            }
        }
        #expect((counts["pair"]?[.train] ?? 0) >= 1)
        #expect(counts["single"]?[.train] == 1, "a lone image is always for training")
        #expect(!dataset.report.reassigned.isEmpty)
        // Every move is listed, and only listed images differ from their hash split.
        let splits = dataset.splitsByPath
        for move in dataset.report.reassigned { #expect(splits[move.path] == move.to) }
        #expect(dataset.summary().contains("Moved \(dataset.report.reassigned.count) image"))
        try dataset.validate()

        // The rule is a function of the images only: scanning again gives the same split.
        #expect(try Dataset.scan(folder: data.root).splitsByPath == splits)
    }

    @Test func whenSmallClassesGrowOnlyReassignedImagesMove() throws {
        let data = try TestData()
        defer { data.remove() }
        for classIndex in 0..<40 {
            for index in 0..<(1 + classIndex % 5) {
                try data.write(TestData.jpegSigned(classIndex * 100 + index), "c\(classIndex)/\(index).jpg")
            }
        }
        let before = try Dataset.scan(folder: data.root)
        for classIndex in 0..<40 {
            for index in 0..<3 {
                try data.write(TestData.jpegSigned(900_000 + classIndex * 100 + index), "c\(classIndex)/new\(index).jpg")
            }
        }
        let after = try Dataset.scan(folder: data.root)

        let exempt = Set((before.report.reassigned + after.report.reassigned).map(\.path))
        let newSplits = after.splitsByPath
        let moved = before.splitsByPath.filter { newSplits[$0.key] != $0.value }
        #expect(!moved.isEmpty, "this fixture exercises the exception")
        for path in moved.keys { #expect(exempt.contains(path), "\(path) moved without being reassigned") }
    }

    @Test func identicalImagesShareTheirSplit() throws {
        let data = try TestData()
        defer { data.remove() }
        for index in 0..<30 { try data.png(index, "cat/\(index).png") }
        let copied = try TestData.png(77)
        for copy in 0..<4 { try data.write(copied, "cat/copies/\(copy)/same.png") }
        // Small classes whose only images are copies: the minimum rule must move them together.
        for classIndex in 0..<10 {
            for index in 0..<3 { try data.png(1000 + classIndex * 10 + index, "small\(classIndex)/\(index).png") }
            try data.png(1000 + classIndex * 10, "small\(classIndex)/copy-of-0.png")
        }

        let dataset = try Dataset.scan(folder: data.root)

        for group in Dictionary(grouping: dataset.items, by: \.contentHash).values {
            #expect(Set(group.map(\.split)).count == 1, "\(group.map(\.path.lastPathComponent))")
        }
        #expect(dataset.report.duplicateCopies == 3 + 10)
        #expect(dataset.report.conflicts.isEmpty)
    }

    @Test func identicalImagesUnderTwoLabelsAreAConflict() throws {
        let data = try TestData()
        defer { data.remove() }
        for index in 0..<3 {
            try data.png(index, "cat/\(index).png")
            try data.png(10 + index, "dog/\(index).png")
        }
        let shared = try TestData.png(99)
        try data.write(shared, "cat/shared.png")
        try data.write(shared, "dog/also shared.png")

        let dataset = try Dataset.scan(folder: data.root)

        #expect(dataset.report.conflicts.count == 1)
        let conflict = try #require(dataset.report.conflicts.first)
        #expect(conflict.labels == ["cat", "dog"])
        #expect(conflict.files.map(\.path) == ["cat/shared.png", "dog/also shared.png"])
        #expect(conflict.splits.count == 1, "copies under different labels still share a split")
        #expect(!dataset.report.reassigned.contains { $0.path.hasSuffix("shared.png") })
        #expect(dataset.summary().contains("same bytes under labels cat, dog"))
    }

    @Test func aClassWithoutTrainingImagesIsNamed() throws {
        let data = try TestData()
        defer { data.remove() }
        try data.png(1, "train/cat/a.png")
        try data.png(2, "test/cat/b.png")
        try data.png(3, "test/bird/c.png")
        try data.text("not a picture", "train/owl/notes.png")

        let dataset = try Dataset.scan(folder: data.root)
        #expect(dataset.labels == ["bird", "cat", "owl"], "a class with no usable image still counts")
        let error = #expect(throws: DatasetError.self) { try dataset.validate() }
        #expect(error?.code == .classWithoutTrainingImages)
        #expect(error?.message.contains("'bird' (1 test)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("'owl' (no usable image)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("'cat'") == false)
    }

    @Test func nothingUsableIsAnErrorThatSaysWhy() throws {
        let data = try TestData()
        defer { data.remove() }
        try data.text("a", "cat/a.jpg")
        try data.png(1, "cat/.b.png")
        let dataset = try Dataset.scan(folder: data.root)
        let error = #expect(throws: DatasetError.self) { try dataset.validate() }
        #expect(error?.code == .noUsableImages)
        #expect(error?.message.contains("1 not an image") == true, "\(error?.message ?? "")")
    }

    @Test func decodingFailuresRecordedLaterCanStarveAClass() throws {
        let data = try TestData()
        defer { data.remove() }
        try data.png(1, "cat/a.png")
        try data.write(TestData.jpegSigned(2), "dog/broken.jpg")
        var dataset = try Dataset.scan(folder: data.root)
        try dataset.validate()

        let broken = try #require(dataset.items.first { $0.label == "dog" })
        let decoding = #expect(throws: ImageError.self) { try ImageDecoder().decode(contentsOf: broken.path) }
        #expect(decoding?.code == .damaged)
        let found = dataset.recordFailure(at: broken.path, error: try #require(decoding))
        #expect(found)
        #expect(dataset.items.count == 1)
        #expect(dataset.report.skipped.map(\.path) == ["dog/broken.jpg"])
        #expect(dataset.report.skipped.first?.reason == .damaged)
        #expect(dataset.summary().contains("dog/broken.jpg: damaged ("))
        let error = #expect(throws: DatasetError.self) { try dataset.validate() }
        #expect(error?.message.contains("'dog'") == true)
    }

    @Test func splitPolicies() throws {
        #expect(try SplitPolicy(parsing: "70/20/10") == SplitPolicy(train: 0.7, validation: 0.2, test: 0.1))
        #expect(try SplitPolicy(parsing: "0.8,0.1,0.1") == .default)
        #expect(SplitPolicy.default.description == "80/10/10")
        for bad in ["80/10", "50/10/10", "0/50/50", "110/-5/-5", "a/b/c"] {
            #expect(throws: DatasetError.self, "\(bad)") { try SplitPolicy(parsing: bad) }
        }
        let error = #expect(throws: DatasetError.self) {
            try Dataset.scan(folder: URL(fileURLWithPath: "/"), options: ScanOptions(split: SplitPolicy(
                train: 0.5, validation: 0.1, test: 0.1)))
        }
        #expect(error?.code == .invalidSplitPolicy)
    }
}
