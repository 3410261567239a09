/// A small line chart as inline SVG: one polyline of points, labelled horizontal rules (such as 0
/// and 1), an optional marked x value, an optional dashed diagonal, and axis labels.
///
/// Built from numbers and escaped text only, like `BarChart`; colours come from the site's CSS
/// (`chart`, `line`, `rule`, `mark`, `diagonal`). The SVG scales with its `viewBox`.
struct LineChart {
    /// The points, in drawing order; points with a non-finite coordinate are skipped.
    var points: [(x: Double, y: Double)]
    /// The axes' ranges.
    var xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    /// Horizontal rules, each labelled with its value at the left.
    var rules: [Double]
    /// An x value to mark with a vertical line, a dot where the line meets the curve, and a label.
    var mark: (x: Double, label: String)?
    /// Draws the dashed line y = x (for ROC curves).
    var diagonal = false
    var xLabel: String, yLabel: String
    /// Accessible name of the chart.
    var title: String

    static let width = 320.0, height = 190.0
    static let left = 40.0, right = 12.0, top = 12.0, bottom = 34.0

    func x(_ value: Double) -> Double {
        let span = xRange.upperBound - xRange.lowerBound
        return Self.left + (Self.width - Self.left - Self.right) * (span > 0 ? (value - xRange.lowerBound) / span : 0.5)
    }

    func y(_ value: Double) -> Double {
        let span = yRange.upperBound - yRange.lowerBound
        return Self.height - Self.bottom - (Self.height - Self.top - Self.bottom) * (span > 0 ? (value - yRange.lowerBound) / span : 0.5)
    }

    /// An axis value: whole numbers without decimals (`0`, `1`, `12`), others with three significant digits.
    static func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        return NumberText.significant(value)
    }

    /// The chart as an `<svg>` element.
    var svg: String {
        let n = BarChart.n
        let w = Self.width, h = Self.height
        let plotLeft = Self.left, plotRight = w - Self.right, plotTop = Self.top, plotBottom = h - Self.bottom
        let name = DisplayText.escapeHTML(DisplayText.text(title))
        var out = "<svg class=\"chart line\" viewBox=\"0 0 \(n(w)) \(n(h))\" width=\"\(n(w))\" height=\"\(n(h))\" role=\"img\" aria-label=\"\(name)\"><title>\(name)</title>"
        out += "<path class=\"axis\" d=\"M\(n(plotLeft)) \(n(plotTop))V\(n(plotBottom))H\(n(plotRight))\"/>"
        for rule in rules where yRange.contains(rule) {
            out += "<path class=\"rule\" d=\"M\(n(plotLeft)) \(n(y(rule)))H\(n(plotRight))\"/>"
            out += "<text x=\"\(n(plotLeft - 5))\" y=\"\(n(y(rule) + 3))\" text-anchor=\"end\">\(Self.label(rule))</text>"
        }
        if diagonal {
            out += "<path class=\"diagonal\" d=\"M\(n(x(xRange.lowerBound))) \(n(y(yRange.lowerBound)))L\(n(x(xRange.upperBound))) \(n(y(yRange.upperBound)))\"/>"
        }
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        if finite.isEmpty {
            out += "<text class=\"empty\" x=\"\(n(w / 2))\" y=\"\(n(h / 2))\" text-anchor=\"middle\">no data</text>"
        } else {
            let path = finite.enumerated().map { i, p in (i == 0 ? "M" : "L") + "\(n(x(p.x))) \(n(y(p.y)))" }.joined()
            out += "<path class=\"series\" d=\"\(path)\"/>"
        }
        if let mark, xRange.contains(mark.x) {
            out += "<path class=\"mark\" d=\"M\(n(x(mark.x))) \(n(plotTop))V\(n(plotBottom))\"/>"
            if let hit = finite.first(where: { $0.x == mark.x }) {
                out += "<circle class=\"mark\" cx=\"\(n(x(hit.x)))\" cy=\"\(n(y(hit.y)))\" r=\"3\"/>"
            }
            let anchor = x(mark.x) > (plotLeft + plotRight) / 2 ? "end" : "start"
            let shift = anchor == "end" ? -4.0 : 4.0
            out += "<text class=\"marklabel\" x=\"\(n(x(mark.x) + shift))\" y=\"\(n(plotTop + 9))\" text-anchor=\"\(anchor)\">\(DisplayText.escapeHTML(DisplayText.text(mark.label)))</text>"
        }
        for (value, anchor) in [(xRange.lowerBound, "start"), (xRange.upperBound, "end")] {
            out += "<text x=\"\(n(x(value)))\" y=\"\(n(plotBottom + 12))\" text-anchor=\"\(anchor)\">\(Self.label(value))</text>"
        }
        out += "<text class=\"label\" x=\"\(n((plotLeft + plotRight) / 2))\" y=\"\(n(h - 4))\" text-anchor=\"middle\">\(DisplayText.escapeHTML(DisplayText.text(xLabel)))</text>"
        out += "<text class=\"label\" transform=\"rotate(-90)\" x=\"\(n(-(plotTop + plotBottom) / 2))\" y=\"11\" text-anchor=\"middle\">\(DisplayText.escapeHTML(DisplayText.text(yLabel)))</text>"
        out += "</svg>"
        return out
    }
}
