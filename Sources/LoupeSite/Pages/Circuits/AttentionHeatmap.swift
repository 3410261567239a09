/// One attention pattern as an inline SVG heat map: rows are query positions, columns key positions,
/// both labelled with the prompt's tokens; each cell's opacity is its weight and its `<title>` says
/// the value. Drawn at its natural size, to sit in a horizontally scrolling container on narrow screens.
struct AttentionHeatmap {
    /// The prompt's tokens (clean), as the findings give them.
    let tokens: [String]
    /// `[query][key]` weights in [0, 1]; rows and columns beyond the tokens are labelled by position.
    let weights: [[Double]]
    /// Accessible name of the map.
    let title: String

    static let cell = 18.0, labelWidth = 78.0, labelHeight = 64.0, margin = 6.0

    /// A token shortened to fit a label, made visible and escaped.
    static func label(_ token: String) -> String {
        let visible = DisplayText.token(token)
        let short = visible.count > 10 ? String(visible.prefix(9)) + "…" : visible
        return DisplayText.escapeHTML(short)
    }

    /// The map as an `<svg>` element.
    var svg: String {
        let n = BarChart.n
        let count = max(tokens.count, weights.count, weights.map(\.count).max() ?? 0)
        let width = Self.labelWidth + Double(count) * Self.cell + Self.margin
        let height = Self.labelHeight + Double(count) * Self.cell + Self.margin
        let name = DisplayText.escapeHTML(DisplayText.text(title))
        var out = "<svg class=\"heat\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(name)\"><title>\(name)</title>"
        func token(_ i: Int) -> String { i < tokens.count ? tokens[i] : "#\(i)" }
        for i in 0..<count {
            let text = Self.label(token(i))
            let rowY = Self.labelHeight + (Double(i) + 0.5) * Self.cell + 3.5
            out += "<text class=\"tok\" x=\"\(n(Self.labelWidth - 4))\" y=\"\(n(rowY))\" text-anchor=\"end\">\(text)</text>"
            let columnX = Self.labelWidth + (Double(i) + 0.5) * Self.cell + 3.5
            out += "<text class=\"tok\" transform=\"rotate(-60 \(n(columnX)) \(n(Self.labelHeight - 4)))\" x=\"\(n(columnX))\" y=\"\(n(Self.labelHeight - 4))\">\(text)</text>"
        }
        out += "<rect class=\"frame\" x=\"\(n(Self.labelWidth))\" y=\"\(n(Self.labelHeight))\" width=\"\(n(Double(count) * Self.cell))\" height=\"\(n(Double(count) * Self.cell))\"/>"
        for (query, row) in weights.enumerated() {
            for (key, weight) in row.enumerated() where weight.isFinite && (weight > 0 || key <= query) {
                let opacity = NumberText.fixed(min(1, weight), 3)
                let hover = "query \(query) " + DisplayText.escapeHTML(DisplayText.token(token(query)))
                    + " → key \(key) " + DisplayText.escapeHTML(DisplayText.token(token(key))) + ": " + NumberText.fixed(weight, 3)
                out += "<rect class=\"cell\" x=\"\(n(Self.labelWidth + Double(key) * Self.cell))\" y=\"\(n(Self.labelHeight + Double(query) * Self.cell))\" width=\"\(n(Self.cell))\" height=\"\(n(Self.cell))\" fill-opacity=\"\(opacity)\"><title>\(hover)</title></rect>"
            }
        }
        out += "</svg>"
        return out
    }
}
