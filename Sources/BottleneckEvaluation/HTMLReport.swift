import Foundation

/// The self-contained `report.html`: summary, metadata, inline SVG figures and the worst mistakes with their
/// thumbnails as `data:` URIs. It references nothing outside the file (no fonts, scripts, images or links), and
/// every piece of text from the inputs is escaped.
///
/// Element ids: `figure-training-curves` (absent, with a note, when there are no epochs), `figure-confusion-matrix`,
/// `figure-per-class` (all `<svg>`), `section-mistakes`.
public enum HTMLReport {
    /// Renders the page.
    /// - Parameters:
    ///   - evaluation: The held-out metrics.
    ///   - epochs: The training history; empty skips the curves.
    ///   - thumbnails: Image bytes (PNG or JPEG) keyed by sample identifier; other formats and missing entries show
    ///     a placeholder.
    ///   - title: The page title.
    ///   - metadata: Free key-value pairs shown in a table, sorted by key (model, backbone, dataset, ...).
    ///   - mistakeCount: How many of the worst mistakes to show.
    public static func render(
        evaluation: Evaluation, epochs: [EpochRecord], thumbnails: [String: Data], title: String,
        metadata: [String: String], mistakeCount: Int = 24
    ) -> String {
        let e = Markup.escape
        var body = "<h1>\(e(title))</h1>\n"
        body += summary(evaluation)
        if !metadata.isEmpty {
            body += "<table class=\"metadata\"><tbody>"
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                body += "<tr><th>\(e(key))</th><td>\(e(value))</td></tr>"
            }
            body += "</tbody></table>\n"
        }
        body += "<section><h2>Training curves</h2>"
        body += epochs.isEmpty
            ? "<p class=\"note\" id=\"note-training-curves\">No training history was recorded, so there are no curves.</p>"
            : TrainingCurvesFigure.svg(epochs.sorted { $0.epoch < $1.epoch })
        body += "</section>\n<section><h2>Confusion matrix</h2>"
            + "<p class=\"note\">Rows are true classes, columns predicted; colour is the fraction of the row (square-root scale).</p>"
            + ConfusionMatrixFigure.svg(evaluation) + "</section>\n"
        body += "<section><h2>Per-class precision, recall and F1</h2>" + PerClassFigure.svg(evaluation)
            + classTable(evaluation) + "</section>\n"
        body += mistakesSection(evaluation, thumbnails: thumbnails, limit: mistakeCount)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title))</title>
            <style>\(style)</style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    private static func summary(_ evaluation: Evaluation) -> String {
        var items = [
            ("samples", String(evaluation.sampleCount)),
            ("accuracy", Markup.ratio(evaluation.accuracy, digits: 4)),
        ]
        for k in ReportTable.topKValues where k > 1 && k < evaluation.classNames.count {
            items.append(("top-\(k) accuracy", Markup.ratio(evaluation.topKAccuracies[k - 1], digits: 4)))
        }
        items += [
            ("macro F1", Markup.ratio(evaluation.macro.f1, digits: 4)),
            ("weighted F1", Markup.ratio(evaluation.weighted.f1, digits: 4)),
            ("log loss", Markup.ratio(evaluation.logLoss, digits: 4)),
        ]
        return "<dl class=\"summary\">"
            + items.map { "<div><dt>\($0.0)</dt><dd>\($0.1)</dd></div>" }.joined() + "</dl>\n"
    }

    private static func classTable(_ evaluation: Evaluation) -> String {
        var out = "<table class=\"classes\"><thead><tr><th>class</th><th>precision</th><th>recall</th>"
            + "<th>f1-score</th><th>support</th></tr></thead><tbody>"
        func row(_ name: String, _ p: Double, _ r: Double, _ f: Double, _ s: Int, _ cls: String = "") -> String {
            "<tr\(cls)><th>\(Markup.escape(name))</th><td>\(Markup.ratio(p))</td><td>\(Markup.ratio(r))</td>"
                + "<td>\(Markup.ratio(f))</td><td>\(s)</td></tr>"
        }
        for m in evaluation.perClass { out += row(m.name, m.precision, m.recall, m.f1, m.support) }
        for (name, a) in [("macro avg", evaluation.macro), ("weighted avg", evaluation.weighted)] {
            out += row(name, a.precision, a.recall, a.f1, a.support, " class=\"average\"")
        }
        return out + "</tbody></table>"
    }

    private static func mistakesSection(_ evaluation: Evaluation, thumbnails: [String: Data], limit: Int) -> String {
        let e = Markup.escape
        let shown = evaluation.mistakes.prefix(max(0, limit))
        var out = "<section id=\"section-mistakes\"><h2>Worst mistakes</h2>"
        out += "<p class=\"note\">\(shown.count) of \(evaluation.mistakes.count) misclassified samples, "
            + "lowest probability of the true class first.</p>"
        out += "<div class=\"mistakes\">"
        for mistake in shown {
            let trueName = evaluation.classNames[mistake.trueLabel]
            out += "<figure class=\"mistake\">"
            if let data = thumbnails[mistake.identifier], let mime = imageType(data) {
                out += "<img src=\"data:\(mime);base64,\(data.base64EncodedString())\" alt=\"\(e(mistake.identifier))\">"
            } else {
                out += "<div class=\"no-image\">no image</div>"
            }
            out += "<figcaption><div class=\"path\" title=\"\(e(mistake.identifier))\">\(e(mistake.identifier))</div>"
            out += "<div class=\"truth\">true: <b>\(e(trueName))</b> (\(Markup.ratio(mistake.trueClassProbability)))</div><ol>"
            for prediction in mistake.predictions {
                out += "<li>\(e(evaluation.classNames[prediction.classIndex])) "
                    + "<span class=\"p\">\(Markup.ratio(prediction.probability))</span></li>"
            }
            out += "</ol></figcaption></figure>"
        }
        return out + "</div></section>\n"
    }

    /// The MIME type of PNG or JPEG bytes, from their signature.
    private static func imageType(_ data: Data) -> String? {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        return nil
    }

    private static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;\
        padding:0 16px;color:#1a1a1a}
        h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
        svg{display:block;width:100%;height:auto;font-size:12px;margin:8px 0}
        .figure-title{font-weight:600;font-size:13px}.tick{fill:#555;font-size:11px}.label{fill:#333}
        .legend{font-size:12px}.grid{stroke:#e6e6e6}.axis,.frame{stroke:#444}
        .series-train{stroke:#1f77b4;fill:#1f77b4;stroke-width:2}
        .series-validation{stroke:#ff7f0e;fill:#ff7f0e;stroke-width:2}
        polyline.series-train,polyline.series-validation{fill:none}
        .series-precision{fill:#4c72b0}.series-recall{fill:#dd8452}.series-f1{fill:#55a868}
        .cell{stroke:#fff;stroke-width:0.5}
        .summary{display:flex;flex-wrap:wrap;gap:12px}.summary div{background:#f4f6f8;padding:8px 12px;border-radius:6px}
        .summary dt{font-size:.8em;color:#555}.summary dd{margin:0;font-size:1.3em;font-weight:600}
        table{border-collapse:collapse;margin:12px 0;font-size:.9em}th,td{padding:3px 10px;border-bottom:1px solid #eee}
        td{text-align:right;font-variant-numeric:tabular-nums}th{text-align:left}tr.average th{font-style:italic}
        .note{color:#666;font-size:.9em}
        .mistakes{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px}
        .mistake{margin:0;border:1px solid #ddd;border-radius:6px;padding:8px;font-size:.85em;overflow:hidden}
        .mistake img,.no-image{width:100%;aspect-ratio:1;object-fit:contain;image-rendering:pixelated;background:#f4f4f4}
        .no-image{display:flex;align-items:center;justify-content:center;color:#888}
        .path{color:#666;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .mistake ol{margin:4px 0 0;padding-left:1.4em}.p{color:#666;font-variant-numeric:tabular-nums}
        """
}
