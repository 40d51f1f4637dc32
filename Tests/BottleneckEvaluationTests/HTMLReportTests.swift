import Foundation
import Testing
@testable import BottleneckEvaluation

@Suite("HTML report")
struct HTMLReportTests {
    static let hostile = ["<script>alert(1)</script>", "Tom & \"Jerry\" 'quoted'", "ünïcødé 猫 🐱", "a</svg><svg>"]

    static func epochs(_ count: Int) -> [EpochRecord] {
        (1...max(1, count)).prefix(count).map {
            EpochRecord(epoch: $0, trainLoss: 2 / Double($0), trainAccuracy: 1 - 0.5 / Double($0),
                        validationLoss: 2.2 / Double($0), validationAccuracy: 0.95 - 0.5 / Double($0), learningRate: 0.01)
        }
    }

    static func evaluation(classes: Int, names: [String]? = nil, count: Int = 300) throws -> Evaluation {
        let (scores, labels) = TestSupport.randomProblem(count: count, classes: classes, seed: UInt64(classes))
        return try Evaluation(
            scores: scores, labels: labels, classNames: names ?? (0..<classes).map { "class \($0)" },
            identifiers: labels.indices.map { "images/\($0).png" })
    }

    /// Every src= and href= value in the page.
    static func references(_ html: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"(?:src|href)\s*=\s*["']?([^"'\s>]*)"#, options: .caseInsensitive)
        return pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)).map {
            String(html[Range($0.range(at: 1), in: html)!])
        }
    }

    @Test func escapesHostileClassNamesAndMetadata() throws {
        let e = try Self.evaluation(classes: 4, names: Self.hostile)
        let html = HTMLReport.render(
            evaluation: e, epochs: Self.epochs(3), thumbnails: [:], title: "<b>title</b> & co",
            metadata: ["model\"><x>": "<img src=x onerror=alert(1)>"])
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img src=x"))
        #expect(!html.contains("<b>title</b>"))
        #expect(!html.contains("a</svg><svg>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("Tom &amp; &quot;Jerry&quot; &#39;quoted&#39;"))
        #expect(html.contains("ünïcødé 猫 🐱"))
        #expect(html.contains("&lt;b&gt;title&lt;/b&gt; &amp; co"))
        #expect(Markup.escape("a\u{1}b") == "a\u{FFFD}b")
    }

    @Test func isSelfContained() throws {
        let e = try Self.evaluation(classes: 10)
        let png = TinyPNG.encode(width: 2, height: 2, pixels: Array(repeating: 200, count: 12))
        let thumbnails = Dictionary(uniqueKeysWithValues: e.mistakes.map { ($0.identifier, png) })
        let html = HTMLReport.render(evaluation: e, epochs: Self.epochs(10), thumbnails: thumbnails,
                                     title: "t", metadata: ["backbone": "https://example.com/model.onnx"])
        // The only URL-like text is the escaped metadata value, never an attribute.
        let references = Self.references(html)
        #expect(!references.isEmpty)
        #expect(references.allSatisfy { $0.hasPrefix("data:image/png;base64,") || $0.hasPrefix("#") })
        #expect(!html.contains("url("))
        #expect(!html.contains("@import"))
        #expect(html.components(separatedBy: "http").count == 2)
        for id in ["figure-training-curves", "figure-confusion-matrix", "figure-per-class", "section-mistakes"] {
            #expect(html.contains("id=\"\(id)\""), "\(id)")
        }
        #expect(html.components(separatedBy: "<img ").count - 1 == min(24, e.mistakes.count))
    }

    @Test func skipsCurvesWithoutEpochsAndUnknownImages() throws {
        let e = try Self.evaluation(classes: 3)
        let html = HTMLReport.render(
            evaluation: e, epochs: [], thumbnails: [e.mistakes[0].identifier: Data("GIF89a".utf8)],
            title: "t", metadata: [:], mistakeCount: 5)
        #expect(!html.contains("figure-training-curves"))
        #expect(html.contains("id=\"note-training-curves\""))
        #expect(html.contains("class=\"no-image\""))
        #expect(!html.contains("<img "))
        #expect(html.components(separatedBy: "<figure class=\"mistake\">").count - 1 == 5)
    }

    @Test(arguments: [2, 10, 100])
    func rendersAnyClassCount(classes: Int) throws {
        let names = (0..<classes).map { "a rather long class name number \($0)" }
        let e = try Self.evaluation(classes: classes, names: names, count: 500)
        let html = HTMLReport.render(evaluation: e, epochs: Self.epochs(1), thumbnails: [:], title: "t", metadata: [:])
        // One rect per confusion cell; three bars per class plus the legend swatch.
        #expect(html.components(separatedBy: "class=\"cell\"").count - 1 == classes * classes)
        #expect(html.components(separatedBy: "<rect class=\"series-f1\" x=").count - 1 == classes + 1)
        #expect(html.contains("a rather long class nam…"))
        #expect(!html.contains("nan") && !html.contains("inf"))
    }

    @Test func tinyPNGIsValid() {
        let png = [UInt8](TinyPNG.encode(width: 1, height: 1, pixels: [255, 0, 0]))
        #expect(png.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(TinyPNG.crc32(Array("IEND".utf8)) == 0xAE42_6082)
        #expect(TinyPNG.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
    }
}
