import BottleneckDatasets
import Foundation
import Testing

/// Scanning `root/<label>/**/<image>` and `root/{train,val,test}/<label>/...` folders.
@Suite struct FolderScanTests {
    @Test func classFoldersKeepUnicodeLabelsAndSkipHiddenAndNonImages() throws {
        let data = try TestData()
        defer { data.remove() }
        let nfd = "Cafe\u{301} au lait"  // decomposed é: must come back with exactly these bytes
        try data.png(1, "\(nfd)/a.png")
        try data.png(2, "\(nfd)/deeper/still/b.png")
        try data.png(3, "猫/c.png")
        try data.png(4, "猫/d.jpg")  // a PNG named .jpg is an image
        try data.write(TestData.jpegSigned(5), "dog/e.JPEG")
        try data.png(6, "dog/no-extension")
        try data.text("just text", "dog/notes.jpg")  // a text file named .jpg is not
        try data.write(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8), "dog/photo.webp")
        try data.write([], "dog/empty.png")
        try data.png(7, "dog/.hidden.png")
        try data.png(8, "dog/.thumbnails/f.png")
        try data.png(9, ".git/objects/g.png")
        try data.text("readme", "README.md")

        let dataset = try Dataset.scan(folder: data.root)

        #expect(dataset.layout == .classFolders)
        #expect(dataset.labels == [nfd, "dog", "猫"])
        #expect(Array(dataset.labels[0].utf8) == Array(nfd.utf8), "the NFD spelling is kept byte for byte")
        #expect(dataset.relativePaths == [
            "\(nfd)/a.png", "\(nfd)/deeper/still/b.png", "dog/e.JPEG", "dog/no-extension", "猫/c.png", "猫/d.jpg",
        ])
        #expect(dataset.items.allSatisfy { $0.contentHash.count == 64 })
        #expect(dataset.skipReason(of: "dog/notes.jpg") == .notAnImage)
        #expect(dataset.skipReason(of: "dog/photo.webp") == .notAnImage)
        #expect(dataset.report.skipped.first { $0.path == "dog/photo.webp" }?.detail == "a WebP image")
        #expect(dataset.report.skipped.first { $0.path == "dog/notes.jpg" }?.detail == "a text file")
        #expect(dataset.skipReason(of: "dog/empty.png") == .empty)
        #expect(dataset.skipReason(of: "dog/.hidden.png") == .hidden)
        #expect(dataset.skipReason(of: "dog/.thumbnails") == .hidden, "a hidden folder is counted once")
        #expect(dataset.skipReason(of: ".git") == .hidden)
        #expect(dataset.skipReason(of: "README.md") == .outsideClassFolder)
        #expect(dataset.report.skipped.count == 7)
        #expect(dataset.report.skippedCounts == [.hidden: 3, .notAnImage: 2, .empty: 1, .outsideClassFolder: 1])
        let summary = dataset.summary()
        #expect(summary.contains("3 classes, 6 images"))
        #expect(summary.contains("Skipped 7 files: 3 hidden, 2 not an image, 1 empty, 1 outside any class folder"))
        #expect(summary.contains("dog/notes.jpg: not an image (a text file)"))
        try dataset.validate()
    }

    @Test func labelsThatDifferOnlyInNormalizationAreRejected() throws {
        let data = try TestData()
        defer { data.remove() }
        try data.png(1, "caf\u{E9}/a.png")
        try data.png(2, "cafe\u{301}/b.png")
        let error = #expect(throws: DatasetError.self) { try Dataset.scan(folder: data.root) }
        #expect(error?.code == .ambiguousLabels)
        #expect(error?.message.contains("NFC and NFD") == true)
    }

    @Test func symbolicLinkLoopsEndAndDanglingLinksAreReported() throws {
        let data = try TestData()
        defer { data.remove() }
        try data.png(1, "cat/a.png")
        try data.png(2, "dog/b.png")
        try data.link("cat/loop", to: "..")  // cat/loop/cat/loop/... forever if followed naively
        try data.link("cat/self", to: "self")  // a link to itself
        try data.link("dog/gone.png", to: "nowhere.png")
        try data.link("dog/alias.png", to: "b.png")  // a link to a file is followed: a second copy of b

        let dataset = try Dataset.scan(folder: data.root)

        #expect(dataset.skipReason(of: "cat/loop") == .revisitedFolder)
        #expect(dataset.skipReason(of: "cat/self") == .unreadable)
        #expect(dataset.skipReason(of: "dog/gone.png") == .unreadable)
        #expect(dataset.relativePaths == ["cat/a.png", "dog/alias.png", "dog/b.png"])
        #expect(dataset.report.duplicateCopies == 1)
    }

    @Test func splitFoldersFixTheSplit() throws {
        let data = try TestData()
        defer { data.remove() }
        for label in ["cat", "dog"] {
            for index in 0..<4 { try data.png(index + (label == "cat" ? 0 : 100), "train/\(label)/\(index).png") }
            try data.png(10 + (label == "cat" ? 0 : 100), "val/\(label)/v.png")
            try data.png(20 + (label == "cat" ? 0 : 100), "test/\(label)/sub/t.png")
        }
        try data.text("x", "train/stray.txt")

        let dataset = try Dataset.scan(folder: data.root)

        #expect(dataset.layout == .splitFolders)
        #expect(dataset.labels == ["cat", "dog"])
        #expect(dataset.hashedSplits == [.train], "with all three folders, nothing is carved out of train/")
        for (path, split) in dataset.splitsByPath {
            let expected: DatasetSplit = path.hasPrefix("train/") ? .train : path.hasPrefix("val/") ? .validation : .test
            #expect(split == expected, "\(path)")
        }
        #expect(dataset.skipReason(of: "train/stray.txt") == .outsideClassFolder)
        try dataset.validate()
    }

    @Test func withoutAValFolderValidationIsCarvedFromTrain() throws {
        let data = try TestData()
        defer { data.remove() }
        for index in 0..<40 {
            try data.png(index, "train/cat/\(index).png")
            try data.png(1000 + index, "train/dog/\(index).png")
        }
        for index in 0..<5 { try data.png(500 + index, "test/cat/\(index).png") }
        try data.png(600, "test/dog/0.png")

        let dataset = try Dataset.scan(folder: data.root)

        #expect(dataset.hashedSplits == [.train, .validation])
        let splits = dataset.splitsByPath
        #expect(splits.filter { $0.key.hasPrefix("test/") }.allSatisfy { $0.value == .test })
        #expect(splits.filter { $0.key.hasPrefix("train/") }.allSatisfy { $0.value != .test })
        for label in ["cat", "dog"] { #expect((dataset.counts[label]?[.validation] ?? 0) >= 1) }
        #expect(dataset.items(in: .validation).count < 20, "about 1/9 of train/ (80:10)")

        // A validation fraction of 0 keeps train/ whole.
        let whole = try Dataset.scan(folder: data.root, options: ScanOptions(split: SplitPolicy(parsing: "90/0/10")))
        #expect(whole.items(in: .validation).isEmpty)
        #expect(whole.items(in: .train).count == 80)
    }

    @Test func splitFoldersBesideClassFoldersAreAnError() throws {
        let data = try TestData()
        defer { data.remove() }
        try data.png(1, "train/cat/a.png")
        try data.png(2, "dog/b.png")
        let error = #expect(throws: DatasetError.self) { try Dataset.scan(folder: data.root) }
        #expect(error?.code == .mixedLayout)
        #expect(error?.message.contains("dog/") == true)
    }

    @Test func aMissingFolderOrAFileIsAnError() throws {
        let data = try TestData()
        defer { data.remove() }
        let missing = #expect(throws: DatasetError.self) { try Dataset.scan(folder: data.url("nope")) }
        #expect(missing?.code == .notFound)
        try data.text("path,label\n", "list.csv")
        let file = #expect(throws: DatasetError.self) { try Dataset.scan(folder: data.url("list.csv")) }
        #expect(file?.code == .wrongKind)
    }
}
