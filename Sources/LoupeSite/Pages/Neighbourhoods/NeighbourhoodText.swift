import LoupeFindings

/// The words and numbers every neighbourhood output repeats (index, site and query pages, links from
/// circuit pages, `summary.md`): the distance's formula, distances and ε, a site's name.
enum NeighbourhoodText {
    /// The distance as a formula: `‖q − z‖₂ / ‖q‖₂` for `l2`, `1 − cos(q, z)` for `cosine`, any other
    /// name as given (display-cleaned).
    static func formula(_ distance: String) -> String {
        switch distance {
        case "l2": return "‖q − z‖₂ / ‖q‖₂"
        case "cosine": return "1 − cos(q, z)"
        default: return DisplayText.text(distance)
        }
    }

    /// A distance or ε with three decimals (`0.100`), `n/a` when not finite.
    static func distance(_ value: Double) -> String { NumberText.fixed(value, 3) }

    /// `ε = 0.100 on ‖q − z‖₂ / ‖q‖₂`.
    static func context(_ findings: NeighbourhoodFindings) -> String {
        "ε = \(distance(findings.epsilon)) on \(formula(findings.distance))"
    }

    /// `head 2`, or nil for a site that reads the whole row.
    static func head(_ site: NeighbourhoodSiteFindings) -> String? {
        site.head.map { "head \($0)" }
    }

    /// The site's hook and head: `blocks.1.attn.hook_z head 2`, display-cleaned.
    static func site(_ site: NeighbourhoodSiteFindings) -> String {
        DisplayText.text(site.hook) + (head(site).map { " " + $0 } ?? "")
    }

    /// A setting such as a temperature or noise level with up to three significant digits and no
    /// trailing zeros (`0.5`, `1`, `0.05`).
    static func compact(_ value: Double) -> String {
        let text = NumberText.significant(value)
        guard text.contains("."), !text.contains("e") else { return text }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
