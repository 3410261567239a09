import LoupeFindings

/// The subspace pages' inline SVG: the partition as a strip of blocks, and the effects of the blocks
/// on a task as signed columns. Built from numbers and escaped text only; colours come from CSS classes.
enum SubspaceCharts {
    static let width = 520.0

    /// One rectangle per subspace, its width proportional to its size, labelled `s1`, `s2`, … when wide
    /// enough; each links to the subspace's page (`href(number)`).
    static func partition(_ sizes: [Int], href: (Int) -> String) -> String {
        let total = Double(max(1, sizes.reduce(0, +)))
        let height = 34.0
        let title = "Partition into \(sizes.count) subspaces of sizes " + sizes.map(String.init).joined(separator: ", ")
        var out = "<svg class=\"chart strip\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(title)\"><title>\(title)</title>"
        var x = 0.0
        for (index, size) in sizes.enumerated() {
            let w = width * Double(size) / total
            out += "<a href=\"\(DisplayText.escapeHTML(href(index + 1)))\"><rect class=\"block b\(index % 2)\" x=\"\(n(x))\" y=\"2\" width=\"\(n(max(0.5, w - 1)))\" height=\"\(n(height - 4))\"><title>s\(index + 1): \(size) columns</title></rect>"
            if w >= 22 { out += "<text x=\"\(n(x + w / 2))\" y=\"\(n(height / 2 + 4))\" text-anchor=\"middle\">s\(index + 1)</text>" }
            out += "</a>"
            x += w
        }
        return out + "</svg>"
    }

    /// A column per subspace: its effect on a task (share of the clean–corrupted gap it closes when
    /// patched alone), negative columns in the `neg` class, a dashed rule at 1 (the whole gap).
    static func effects(_ effects: [Double], title: String) -> String {
        let height = 170.0, left = 40.0, right = 8.0, top = 10.0, bottom = 30.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let finite = effects.filter(\.isFinite)
        let upper = max(1, finite.max() ?? 1), lower = min(0, finite.min() ?? 0)
        func y(_ value: Double) -> Double { top + plotHeight * (upper - value) / (upper - lower) }
        let escapedTitle = DisplayText.escapeHTML(DisplayText.text(title))
        var out = "<svg class=\"chart\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(escapedTitle)\"><title>\(escapedTitle)</title>"
        let step = plotWidth / Double(max(1, effects.count))
        var positive = "", negative = ""
        for (index, value) in effects.enumerated() where value.isFinite && value != 0 {
            let x = left + Double(index) * step + (step > 4 ? 1 : 0)
            let (from, to) = (y(max(value, 0)), y(min(value, 0)))
            let rect = "M\(n(x)) \(n(to))V\(n(min(from, to - 1)))h\(n(max(0.5, step - (step > 4 ? 2 : 0))))V\(n(to))z"
            if value < 0 { negative += rect } else { positive += rect }
        }
        if !positive.isEmpty { out += "<path class=\"bars\" d=\"\(positive)\"/>" }
        if !negative.isEmpty { out += "<path class=\"bars neg\" d=\"\(negative)\"/>" }
        out += "<path class=\"rule\" d=\"M\(n(left)) \(n(y(1)))H\(n(width - right))\"/>"
        out += "<path class=\"axis\" d=\"M\(n(left)) \(n(top))V\(n(top + plotHeight))M\(n(left)) \(n(y(0)))H\(n(width - right))\"/>"
        out += "<text x=\"\(n(left - 5))\" y=\"\(n(y(1) + 3))\" text-anchor=\"end\">1</text>"
        out += "<text x=\"\(n(left - 5))\" y=\"\(n(y(0) + 3))\" text-anchor=\"end\">0</text>"
        // The lower end is labelled when it is far enough below 0 for the two labels not to meet.
        if lower <= -0.1 { out += "<text x=\"\(n(left - 5))\" y=\"\(n(y(lower) + 3))\" text-anchor=\"end\">\(DisplayText.escapeHTML(NumberText.fixed(lower, 2)))</text>" }
        if upper > 1 { out += "<text x=\"\(n(left - 5))\" y=\"\(n(y(upper) + 8))\" text-anchor=\"end\">\(DisplayText.escapeHTML(NumberText.significant(upper)))</text>" }
        let labelEvery = max(1, Int((24 / step).rounded(.up)))
        for index in stride(from: 0, to: effects.count, by: labelEvery) {
            out += "<text x=\"\(n(left + (Double(index) + 0.5) * step))\" y=\"\(n(top + plotHeight + 13))\" text-anchor=\"middle\">s\(index + 1)</text>"
        }
        out += "<text class=\"label\" x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 3))\" text-anchor=\"middle\">subspace (partition order)</text>"
        return out + "</svg>"
    }

    private static func n(_ value: Double) -> String { BarChart.n(value) }
}
