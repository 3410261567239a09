import Foundation
import LoupeFindings

/// A histogram drawn as a small inline SVG bar chart with axis labels.
///
/// The SVG is built here from numbers and escaped text only; pages embed it as markup they produced
/// themselves. Colours come from classes in the site's CSS (`chart`, `bars`, `axis`, …), so no inline
/// style is needed under the pages' Content-Security-Policy.
struct BarChart {
    /// Lower edge of the first bin.
    var lower: Double
    /// Upper edge of the last bin.
    var upper: Double
    /// One count per equal-width bin.
    var counts: [Int]
    /// Label under the x axis.
    var xLabel: String
    /// Accessible name of the chart.
    var title: String
    /// Bars left of zero get the `neg` class (for signed values such as logit effects).
    var signed: Bool = false

    /// The figure's size and the plot's margins inside it, in SVG units.
    static let width = 360.0, height = 150.0
    static let left = 44.0, right = 10.0, top = 10.0, bottom = 36.0

    init(histogram: Histogram, xLabel: String, title: String, signed: Bool = false) {
        self.lower = Double(histogram.lower)
        self.upper = Double(histogram.upper)
        self.counts = histogram.counts
        self.xLabel = xLabel
        self.title = title
        self.signed = signed
    }

    init(lower: Double, upper: Double, counts: [Int], xLabel: String, title: String, signed: Bool = false) {
        self.lower = lower
        self.upper = upper
        self.counts = counts
        self.xLabel = xLabel
        self.title = title
        self.signed = signed
    }

    /// The chart as an `<svg>` element.
    var svg: String {
        let w = Self.width, h = Self.height
        let plotLeft = Self.left, plotRight = w - Self.right
        let plotTop = Self.top, plotBottom = h - Self.bottom
        let plotWidth = plotRight - plotLeft, plotHeight = plotBottom - plotTop
        let escapedTitle = DisplayText.escapeHTML(DisplayText.text(title))

        var out = "<svg class=\"chart\" viewBox=\"0 0 \(Self.n(w)) \(Self.n(h))\" width=\"\(Self.n(w))\" height=\"\(Self.n(h))\" role=\"img\" aria-label=\"\(escapedTitle)\"><title>\(escapedTitle)</title>"
        let maxCount = counts.max() ?? 0
        let rangeOK = lower.isFinite && upper.isFinite && upper > lower
        guard !counts.isEmpty, maxCount > 0, rangeOK else {
            out += "<text class=\"empty\" x=\"\(Self.n(w / 2))\" y=\"\(Self.n(h / 2))\" text-anchor=\"middle\">no data</text></svg>"
            return out
        }

        // Bars: one path per class, each bar a closed rectangle.
        let binWidth = plotWidth / Double(counts.count)
        let gap = binWidth > 4 ? 1.0 : 0.0
        var positive = "", negative = ""
        for (i, count) in counts.enumerated() where count > 0 {
            let barHeight = max(1, plotHeight * Double(count) / Double(maxCount))
            let x = plotLeft + Double(i) * binWidth
            let rect = "M\(Self.n(x)) \(Self.n(plotBottom))v-\(Self.n(barHeight))h\(Self.n(max(0.5, binWidth - gap)))v\(Self.n(barHeight))z"
            let binCentre = lower + (Double(i) + 0.5) * (upper - lower) / Double(counts.count)
            if signed && binCentre < 0 { negative += rect } else { positive += rect }
        }
        if !positive.isEmpty { out += "<path class=\"bars\" d=\"\(positive)\"/>" }
        if !negative.isEmpty { out += "<path class=\"bars neg\" d=\"\(negative)\"/>" }

        // Zero line for signed ranges.
        if signed && lower < 0 && upper > 0 {
            let x0 = plotLeft + plotWidth * (0 - lower) / (upper - lower)
            out += "<path class=\"zero\" d=\"M\(Self.n(x0)) \(Self.n(plotTop))V\(Self.n(plotBottom))\"/>"
        }

        // Axes with ticks at the ends and the middle.
        out += "<path class=\"axis\" d=\"M\(Self.n(plotLeft)) \(Self.n(plotTop))V\(Self.n(plotBottom))H\(Self.n(plotRight))\"/>"
        // The middle tick sits at zero for signed ranges (unless zero is too close to an end to label).
        var ticks: [(Double, Double, String)] = [(plotLeft, lower, "start"), (plotRight, upper, "end")]
        if signed && lower < 0 && upper > 0 {
            let fraction = (0 - lower) / (upper - lower)
            if fraction > 0.15 && fraction < 0.85 { ticks.insert((plotLeft + plotWidth * fraction, 0, "middle"), at: 1) }
        } else {
            ticks.insert((plotLeft + plotWidth / 2, (lower + upper) / 2, "middle"), at: 1)
        }
        for (x, value, anchor) in ticks {
            out += "<text x=\"\(Self.n(x))\" y=\"\(Self.n(plotBottom + 13))\" text-anchor=\"\(anchor)\">\(DisplayText.escapeHTML(NumberText.significant(value)))</text>"
        }
        out += "<text x=\"\(Self.n(plotLeft - 5))\" y=\"\(Self.n(plotTop + 8))\" text-anchor=\"end\">\(DisplayText.escapeHTML(NumberText.count(maxCount)))</text>"
        out += "<text x=\"\(Self.n(plotLeft - 5))\" y=\"\(Self.n(plotBottom))\" text-anchor=\"end\">0</text>"
        out += "<text class=\"label\" x=\"\(Self.n(plotLeft + plotWidth / 2))\" y=\"\(Self.n(h - 4))\" text-anchor=\"middle\">\(DisplayText.escapeHTML(DisplayText.text(xLabel)))</text>"
        out += "</svg>"
        return out
    }

    /// A coordinate with at most one decimal, without a trailing `.0`.
    static func n(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return NumberText.fixed(rounded, 1)
    }
}
