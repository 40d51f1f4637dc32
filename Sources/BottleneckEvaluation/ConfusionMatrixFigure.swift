/// The confusion-matrix heatmap: rows are true classes, columns predicted classes, colour is the row-normalised
/// fraction (recall on the diagonal; square-root scale so small confusions stay visible), and counts are written
/// in the cells when they are large enough to read.
enum ConfusionMatrixFigure {
    static let id = "figure-confusion-matrix"

    /// The `<svg>` element.
    static func svg(_ evaluation: Evaluation) -> String {
        let classes = evaluation.classNames.count
        let cell = min(56, max(6, 640 / Double(classes)))
        let fontSize = min(12, max(4, cell * 0.6))
        let labelLimit = 24
        let labels = evaluation.classNames.map { Markup.truncate($0, to: labelLimit) }
        let longest = Double(labels.map(\.count).max() ?? 1)
        let margin = min(Double(labelLimit) * fontSize * 0.62, longest * fontSize * 0.62) + 30
        let left = margin, top = margin
        let side = cell * Double(classes)
        let width = left + side + 20, height = top + side + 20
        let c = Markup.coordinate
        var out = """
            <svg id="\(id)" role="img" aria-label="Confusion matrix" viewBox="0 0 \(c(width)) \(c(height))" \
            style="max-width:\(Int(width.rounded(.up)))px"><title>Confusion matrix</title>
            """
        out += "<text x=\"\(c(left + side / 2))\" y=\"12\" text-anchor=\"middle\" class=\"label\">predicted</text>"
        out += "<text transform=\"translate(12 \(c(top + side / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"label\">true</text>"
        for t in 0..<classes {
            let rowTotal = evaluation.confusion[t].reduce(0, +)
            for p in 0..<classes {
                let count = evaluation.confusion[t][p]
                let fraction = rowTotal == 0 ? 0 : (Double(count) / Double(rowTotal)).squareRoot()
                let x = left + Double(p) * cell, y = top + Double(t) * cell
                let title = Markup.escape("true \(evaluation.classNames[t]), predicted \(evaluation.classNames[p]): \(count)")
                out += "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(cell))\" height=\"\(c(cell))\" "
                    + "fill=\"\(color(fraction))\" class=\"cell\"><title>\(title)</title></rect>"
                if cell >= 18 && count > 0 {
                    let digitsSize = min(fontSize, cell / Double(String(count).count + 1) * 1.6)
                    out += "<text x=\"\(c(x + cell / 2))\" y=\"\(c(y + cell / 2 + digitsSize * 0.35))\" "
                        + "text-anchor=\"middle\" font-size=\"\(c(digitsSize))\" "
                        + "fill=\"\(fraction > 0.6 ? "#ffffff" : "#1a1a1a")\">\(count)</text>"
                }
            }
        }
        for (index, label) in labels.enumerated() {
            let middle = Double(index) * cell + cell / 2
            let escaped = Markup.escape(label)
            out += "<text x=\"\(c(left - 4))\" y=\"\(c(top + middle + fontSize * 0.35))\" text-anchor=\"end\" "
                + "font-size=\"\(c(fontSize))\" class=\"class-label\">\(escaped)</text>"
            out += "<text transform=\"translate(\(c(left + middle + fontSize * 0.35)) \(c(top - 4))) rotate(-90)\" "
                + "font-size=\"\(c(fontSize))\" class=\"class-label\">\(escaped)</text>"
        }
        out += "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(side))\" height=\"\(c(side))\" fill=\"none\" class=\"frame\"/>"
        return out + "</svg>"
    }

    /// White to dark blue.
    private static func color(_ fraction: Double) -> String {
        let f = min(1, max(0, fraction))
        let r = Int(247 - f * (247 - 8)), g = Int(251 - f * (251 - 48)), b = Int(255 - f * (255 - 107))
        return "rgb(\(r),\(g),\(b))"
    }
}
