import Foundation

/// Escaping and number formatting shared by the HTML report and its SVG figures.
enum Markup {
    /// Escapes text for HTML/SVG element content and double- or single-quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters other than tab and newline are not allowed in HTML text.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate with one decimal, for SVG attributes.
    static func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A ratio with the given number of decimals.
    static func ratio(_ value: Double, digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

    /// Shortens `text` to at most `limit` characters, ending in an ellipsis when cut.
    static func truncate(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(1, limit - 1))) + "…"
    }

    /// Round tick values covering `low...high`, about `count` of them, at least `minimumStep` apart.
    static func ticks(low: Double, high: Double, count: Int = 5, minimumStep: Double = 0) -> [Double] {
        guard high > low else { return [low] }
        let raw = max((high - low) / Double(count), minimumStep)
        let magnitude = pow(10, floor(log10(raw)))
        let candidates = minimumStep >= 1 ? [1.0, 2, 5, 10] : [1.0, 2, 2.5, 5, 10]
        let step = candidates.map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var values: [Double] = []
        var value = (low / step).rounded(.up) * step
        while value <= high + step * 1e-9 {
            values.append(value)
            value += step
        }
        return values
    }

    /// Formats a tick label without trailing zeros.
    static func tickLabel(_ value: Double) -> String {
        var text = String(format: "%.4g", value)
        if text == "-0" { text = "0" }
        return text
    }
}
