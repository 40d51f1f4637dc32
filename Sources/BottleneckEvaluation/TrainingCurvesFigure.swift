/// The training-curve figure: loss and accuracy against epoch, train and validation, side by side.
enum TrainingCurvesFigure {
    static let id = "figure-training-curves"

    /// The `<svg>` element; `epochs` must not be empty.
    static func svg(_ epochs: [EpochRecord]) -> String {
        let panelWidth = 460.0, height = 300.0, gap = 40.0
        let width = panelWidth * 2 + gap
        let loss = panel(
            title: "Loss", x: 0, width: panelWidth, height: height, epochs: epochs,
            train: epochs.map(\.trainLoss), validation: epochs.map(\.validationLoss))
        let accuracy = panel(
            title: "Accuracy", x: panelWidth + gap, width: panelWidth, height: height, epochs: epochs,
            train: epochs.map(\.trainAccuracy), validation: epochs.map(\.validationAccuracy))
        return """
            <svg id="\(id)" role="img" aria-label="Training curves" viewBox="0 0 \(Int(width)) \(Int(height))" \
            style="max-width:\(Int(width))px"><title>Training curves</title>\(loss)\(accuracy)</svg>
            """
    }

    private static func panel(
        title: String, x: Double, width: Double, height: Double, epochs: [EpochRecord],
        train: [Double], validation: [Double?]
    ) -> String {
        let left = x + 56, right = x + width - 10, top = 44.0, bottom = height - 40
        let xs = epochs.map { Double($0.epoch) }
        let finite = (train + validation.compactMap { $0 }).filter(\.isFinite)
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if high - low < 1e-12 { low -= 0.5; high += 0.5 }
        let padding = (high - low) * 0.05
        low -= padding; high += padding
        let xLow = xs.min() ?? 0, xHigh = max(xs.max() ?? 1, xLow + 1)
        func px(_ v: Double) -> Double { left + (v - xLow) / (xHigh - xLow) * (right - left) }
        func py(_ v: Double) -> Double { bottom - (v - low) / (high - low) * (bottom - top) }
        let c = Markup.coordinate
        var out = "<g class=\"panel\">"
        out += "<text x=\"\(c(left))\" y=\"24\" class=\"figure-title\">\(title)</text>"
        for tick in Markup.ticks(low: low, high: high) {
            out += "<line x1=\"\(c(left))\" x2=\"\(c(right))\" y1=\"\(c(py(tick)))\" y2=\"\(c(py(tick)))\" class=\"grid\"/>"
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(py(tick) + 4))\" text-anchor=\"end\" class=\"tick\">"
                + "\(Markup.tickLabel(tick))</text>"
        }
        for tick in Markup.ticks(low: xLow, high: xHigh, count: min(8, max(1, epochs.count)), minimumStep: 1) {
            out += "<line x1=\"\(c(px(tick)))\" x2=\"\(c(px(tick)))\" y1=\"\(c(bottom))\" y2=\"\(c(bottom + 4))\" class=\"axis\"/>"
            out += "<text x=\"\(c(px(tick)))\" y=\"\(c(bottom + 16))\" text-anchor=\"middle\" class=\"tick\">"
                + "\(Markup.tickLabel(tick))</text>"
        }
        out += "<line x1=\"\(c(left))\" x2=\"\(c(left))\" y1=\"\(c(top))\" y2=\"\(c(bottom))\" class=\"axis\"/>"
        out += "<line x1=\"\(c(left))\" x2=\"\(c(right))\" y1=\"\(c(bottom))\" y2=\"\(c(bottom))\" class=\"axis\"/>"
        out += "<text x=\"\(c((left + right) / 2))\" y=\"\(c(height - 6))\" text-anchor=\"middle\" class=\"label\">epoch</text>"
        var series = [("train", "series-train", train.map(Optional.some))]
        if validation.contains(where: { $0 != nil }) { series.append(("validation", "series-validation", validation)) }
        for (_, cls, values) in series {
            let points = zip(xs, values).compactMap { x, v in v.flatMap { $0.isFinite ? "\(c(px(x))),\(c(py($0)))" : nil } }
            out += "<polyline class=\"\(cls)\" fill=\"none\" points=\"\(points.joined(separator: " "))\"/>"
            for point in points where points.count <= 60 {
                let xy = point.split(separator: ",")
                out += "<circle class=\"\(cls)\" r=\"2.5\" cx=\"\(xy[0])\" cy=\"\(xy[1])\"/>"
            }
        }
        for (index, (name, cls, _)) in series.enumerated() {
            // Above the plot area, right-aligned, so the legend never covers a curve.
            let ly = 10 + Double(index) * 14
            out += "<line x1=\"\(c(right - 110))\" x2=\"\(c(right - 90))\" y1=\"\(c(ly))\" y2=\"\(c(ly))\" class=\"\(cls)\"/>"
            out += "<text x=\"\(c(right - 85))\" y=\"\(c(ly + 4))\" class=\"legend\">\(name)</text>"
        }
        return out + "</g>"
    }
}
