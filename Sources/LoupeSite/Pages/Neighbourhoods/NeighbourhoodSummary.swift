import LoupeFindings

/// The Markdown a reviewer can paste about decoded neighbourhoods: the section of the report's
/// `summary.md`. Every string from data is escaped, so a token cannot become a link, emphasis or HTML.
public enum NeighbourhoodSummary {
    /// A `## Decoded neighbourhoods` section: the distance, ε and the decoder's fit, then a line per
    /// site (hook and head linked to its page, queries, share of decoded samples inside ε) with the
    /// first shared statement of each of its queries beneath. Links are prefixed with `linkPrefix`
    /// (e.g. `site/` for a copy beside the site folder). Empty when the report has no such section.
    public static func reportParagraph(findings: ReportFindings, linkPrefix: String = "") -> String {
        guard let n = findings.neighbourhoods else { return "" }
        let decoder = n.decoder
        var lines = [
            "## Decoded neighbourhoods", "",
            "Distance \(Markdown.escape(NeighbourhoodText.formula(n.distance))), ε = \(NeighbourhoodText.distance(n.epsilon)). "
                + "The inversion decoder (\(Markdown.escape(decoder.path))) was trained for \(decoder.steps) steps on "
                + "\(decoder.examples) activation → input pairs; held-out loss \(NumberText.fixed(decoder.heldOutLoss, 3)) per token. "
                + "Every decoded sample was run back through the model and its distance measured.", "",
        ]
        for site in n.sites {
            let label = Markdown.escape(site.hook) + (NeighbourhoodText.head(site).map { " " + $0 } ?? "")
            let link = linkPrefix + SitePaths.neighbourhoodFolderHref(slug: site.slug) + SitePaths.index
            let count = site.queries.count
            lines.append("- [\(label)](\(link)): \(count) \(count == 1 ? "query" : "queries"), "
                + "\(NumberText.percent(site.insideFraction)) of decoded samples inside ε.")
            for query in site.queries {
                let shared = query.shared.first.map { "\(Markdown.escape($0.statement)) (\(Markdown.escape($0.support)))" }
                    ?? "no statement separates the samples inside ε from those outside"
                lines.append("  - \(Markdown.escape(query.id)) (\(Markdown.escape(query.origin))): \(shared).")
            }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
