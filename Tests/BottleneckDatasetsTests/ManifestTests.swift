import BottleneckDatasets
import Foundation
import Testing

/// CSV manifests in (RFC 4180), split manifests out and back in.
@Suite struct ManifestTests {
    @Test func csvManifestWithQuotedFieldsRelativeAndAbsolutePaths() throws {
        let data = try TestData()
        defer { data.remove() }
        try data.png(1, "images/plain.png")
        try data.png(2, "images/with, comma.png")
        try data.png(3, "images/say \"cheese\".png")
        try data.png(4, "images/two\nlines.png")
        let absolute = try data.png(5, "elsewhere/abs.png")
        try data.text("not an image", "images/notes.png")
        let csv = "\u{FEFF}Label,Path,Split,comment\r\n"  // BOM, any column order and case, CRLF, extra column
            + "cat,images/plain.png,train,\r\n"
            + "\"cat, tabby\",\"images/with, comma.png\",,\"a \"\"quoted\"\" comment\"\r\n"
            + "\"the \"\"best\"\" dog\",\"images/say \"\"cheese\"\".png\",test,x\r\n"
            + "\r\n"  // a blank line
            + "\"multi\nline\",\"images/two\nlines.png\",val,\n"
            + "cat,\(absolute.path),,\n"
            + "cat,images/missing.png,,\n"
            + "cat,images/notes.png,,"  // no final line break
        try data.text(csv, "manifest.csv")

        let dataset = try Dataset.load(manifest: data.url("manifest.csv"))

        #expect(dataset.layout == .csvManifest)
        #expect(dataset.labels == ["cat", "cat, tabby", "multi\nline", "the \"best\" dog"])
        let byPath = Dictionary(uniqueKeysWithValues: dataset.items.map { (dataset.displayPath(of: $0.path), $0) })
        #expect(byPath["images/plain.png"]?.split == .train)
        #expect(byPath["images/with, comma.png"]?.label == "cat, tabby")
        #expect(byPath["images/say \"cheese\".png"]?.split == .test)
        #expect(byPath["images/two\nlines.png"]?.split == .validation)
        #expect(byPath["images/two\nlines.png"]?.label == "multi\nline")
        #expect(byPath[absolute.path] == nil, "outside the manifest's folder: shown absolute")
        #expect(dataset.items.contains { $0.path == absolute.standardizedFileURL })
        #expect(dataset.items.count == 5)
        #expect(dataset.skipReason(of: "images/missing.png") == .missing)
        #expect(dataset.skipReason(of: "images/notes.png") == .notAnImage)
    }

    @Test func malformedCSVManifestsNameTheLine() throws {
        let data = try TestData()
        defer { data.remove() }
        let cases: [(String, String)] = [
            ("path,label\na.png,cat\n\"b.png,dog\n", "line 3"),
            ("path,label\n\"a\"x.png,cat\n", "line 2"),
            ("file,class\na.png,cat\n", "`path` and a `label` column"),
            ("path,label,split\na.png,cat,holdout\n", "line 2 has split 'holdout'"),
            ("path,label\na.png\n", "line 2 has 1 field"),
            ("path,label\na.png,\n", "line 2 has an empty label"),
            ("", "empty"),
        ]
        for (index, (text, message)) in cases.enumerated() {
            try data.text(text, "bad\(index).csv")
            let error = #expect(throws: DatasetError.self) { try Dataset.load(manifest: data.url("bad\(index).csv")) }
            #expect(error?.code == .malformedManifest)
            #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        }
    }

    @Test func splitManifestRoundTripsAsJSONAndCSV() throws {
        let data = try TestData()
        defer { data.remove() }
        for index in 0..<12 {
            try data.png(index, "photos/cat/\(index).png")
            try data.png(100 + index, "photos/dog, \"big\"/\(index).png")
        }
        try data.text("hello", "photos/cat/readme.txt")
        let dataset = try Dataset.scan(folder: data.url("photos"))

        try dataset.write(to: data.url("runs/one/split.json"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: data.url("runs/one/split.json")))
            as? [String: Any]
        #expect(json?["format"] as? String == "bottleneck-dataset-manifest")
        let report = json?["report"] as? [String: Any]
        #expect((report?["skippedCounts"] as? [String: Int]) == ["notAnImage": 1])
        let firstItem = (json?["items"] as? [[String: Any]])?.first
        #expect(firstItem?["path"] as? String == "cat/0.png")
        #expect((firstItem?["sha256"] as? String)?.count == 64)

        let fromJSON = try Dataset.load(manifest: data.url("runs/one/split.json"))
        #expect(fromJSON.layout == .jsonManifest)
        #expect(fromJSON.items == dataset.items)
        #expect(fromJSON.labels == dataset.labels)

        try dataset.write(to: data.url("photos/split.csv"))
        let text = try String(contentsOf: data.url("photos/split.csv"), encoding: .utf8)
        #expect(text.hasPrefix("path,label,split,sha256\n"))
        #expect(text.contains("\"dog, \"\"big\"\"/0.png\",\"dog, \"\"big\"\"\","))
        let fromCSV = try Dataset.load(manifest: data.url("photos/split.csv"))
        #expect(fromCSV.items == dataset.items)

        // `open` tells folders from manifests.
        #expect(try Dataset.open(data.url("photos")).layout == .classFolders)
        #expect(try Dataset.open(data.url("photos/split.csv")).layout == .csvManifest)
        #expect(try Dataset.open(data.url("runs/one/split.json")).layout == .jsonManifest)
    }
}
