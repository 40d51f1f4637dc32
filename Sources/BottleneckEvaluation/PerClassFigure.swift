/// The per-class figure: grouped bars of precision, recall and F1 for every class.
enum PerClassFigure {
    static let id = "figure-per-class"

    /// The `<svg>` element.
    static func svg(_ evaluation: Evaluation) -> String {
        let classes = evaluation.classNames.count
        let group = min(72, max(9, 900 / Double(classes)))
        let fontSize = min(12, max(5, group * 0.55))
        let labelLimit = 24
        let labels = evaluation.classNames.map { Markup.truncate($0, to: labelLimit) }
        let longest = Double(labels.map(\.count).max() ?? 1)
        let left = 48.0, top = 34.0, plotHeight = 240.0
        let bottomMargin = min(Double(labelLimit), longest) * fontSize * 0.62 + 16
        let width = max(340, left + group * Double(classes) + 16), height = top + plotHeight + bottomMargin
        let bottom = top + plotHeight
        let c = Markup.coordinate
        func py(_ v: Double) -> Double { bottom - v * plotHeight }
        var out = """
            <svg id="\(id)" role="img" aria-label="Per-class precision, recall and F1" \
            viewBox="0 0 \(c(width)) \(c(height))" style="max-width:\(Int(width.rounded(.up)))px">\
            <title>Per-class precision, recall and F1</title>
            """
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            out += "<line x1=\"\(c(left))\" x2=\"\(c(width - 16))\" y1=\"\(c(py(tick)))\" y2=\"\(c(py(tick)))\" class=\"grid\"/>"
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(py(tick) + 4))\" text-anchor=\"end\" class=\"tick\">"
                + "\(Markup.tickLabel(tick))</text>"
        }
        let series: [(String, String, KeyPath<ClassMetrics, Double>)] = [
            ("precision", "series-precision", \.precision), ("recall", "series-recall", \.recall),
            ("F1", "series-f1", \.f1),
        ]
        let bar = group * 0.8 / Double(series.count)
        for (index, metrics) in evaluation.perClass.enumerated() {
            let x0 = left + Double(index) * group + group * 0.1
            for (s, (name, cls, path)) in series.enumerated() {
                let value = metrics[keyPath: path]
                let title = Markup.escape("\(metrics.name) \(name): \(Markup.ratio(value))")
                out += "<rect class=\"\(cls)\" x=\"\(c(x0 + Double(s) * bar))\" y=\"\(c(py(value)))\" "
                    + "width=\"\(c(bar))\" height=\"\(c(bottom - py(value)))\"><title>\(title)</title></rect>"
            }
            let middle = left + Double(index) * group + group / 2
            out += "<text transform=\"translate(\(c(middle + fontSize * 0.35)) \(c(bottom + 6))) rotate(-90)\" "
                + "text-anchor=\"end\" font-size=\"\(c(fontSize))\" class=\"class-label\">"
                + "\(Markup.escape(labels[index]))</text>"
        }
        out += "<line x1=\"\(c(left))\" x2=\"\(c(left))\" y1=\"\(c(top))\" y2=\"\(c(bottom))\" class=\"axis\"/>"
        out += "<line x1=\"\(c(left))\" x2=\"\(c(width - 16))\" y1=\"\(c(bottom))\" y2=\"\(c(bottom))\" class=\"axis\"/>"
        for (s, (name, cls, _)) in series.enumerated() {
            let x = left + Double(s) * 100
            out += "<rect class=\"\(cls)\" x=\"\(c(x))\" y=\"10\" width=\"12\" height=\"12\"/>"
            out += "<text x=\"\(c(x + 16))\" y=\"20\" class=\"legend\">\(name)</text>"
        }
        return out + "</svg>"
    }
}
