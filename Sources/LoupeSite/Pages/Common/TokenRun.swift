/// One token of a token run (an atlas example, a neighbourhood's query or sample). Tokens that are
/// neither shaded, titled nor marked are written as plain text (no element), which keeps a page of
/// a thousand tokens small.
struct TokenView {
    /// The token as shown (`DisplayText.token`).
    let tok: String
    /// Neither shaded, nor titled, nor marked.
    let plain: Bool
    /// Space-separated classes: a shade (`a1`…`a9`, `sp1`…`sn9`) and `f` on the marked token.
    let tokClass: String
    /// The exact value(s), shown on hover (empty for none).
    let tokTitle: String

    init(tok: String, plain: Bool, tokClass: String, tokTitle: String) {
        self.tok = tok
        self.plain = plain
        self.tokClass = tokClass
        self.tokTitle = tokTitle
    }

    /// The token `raw` from data, made visible, with `classes` and a hover `title`.
    init(_ raw: String, classes: [String], title: String) {
        self.init(tok: DisplayText.token(raw), plain: classes.isEmpty && title.isEmpty,
                  tokClass: classes.joined(separator: " "), tokTitle: title)
    }
}

/// Token runs as markup, and the nine shade levels they are coloured with.
enum TokenRun {
    /// Shade level 1…9 for a positive value against `scale` (the value of the darkest shade), `nil`
    /// for zero, negative or not-a-number.
    static func level(_ value: Double, scale: Double) -> Int? {
        guard value > 0, value.isFinite, scale > 0 else { return nil }
        let level = (value / scale * 9).rounded(.up)
        return Int(min(9, max(1, level)))
    }

    /// Tokens as markup: plain tokens as escaped text, the others as escaped spans
    /// (`<span class="a5 f" title="1.234">token</span>`).
    static func html(_ tokens: [TokenView]) -> String {
        var html = ""
        html.reserveCapacity(tokens.count * 24)
        for token in tokens {
            if token.plain {
                html += DisplayText.escapeHTML(token.tok)
            } else {
                html += "<span"
                if !token.tokClass.isEmpty { html += " class=\"" + DisplayText.escapeHTML(token.tokClass) + "\"" }
                if !token.tokTitle.isEmpty { html += " title=\"" + DisplayText.escapeHTML(token.tokTitle) + "\"" }
                html += ">" + DisplayText.escapeHTML(token.tok) + "</span>"
            }
        }
        return html
    }
}
