import LoupeFindings

/// The Markdown a reviewer can paste about subspaces: the section of the report's `summary.md`.
/// Every string from data is escaped, so a token cannot become a link, emphasis or HTML.
public enum SubspaceSummary {
    /// A `## Subspaces` section: per site (linked to its page) the partition's sizes, then per task the
    /// subspace with the largest effect, what its neighbours share, and the Gini coefficient of the
    /// effects next to the baselines'. Links are prefixed with `linkPrefix`. Empty without the section.
    public static func reportParagraph(findings: ReportFindings, linkPrefix: String = "") -> String {
        guard let s = findings.subspaces else { return "" }
        var lines = [
            "## Subspaces", "",
            "Each site's space was rotated and split into subspaces by neighbour distance minimisation (NDM); neighbours "
                + "are tokens whose activations have cosine similarity ≥ \(NumberText.fixed(s.similarity, 2)) inside a subspace. "
                + "A subspace's effect on a task is the share of the clean–corrupted metric gap it closes when patched alone.", "",
        ]
        for site in s.sites {
            let folder = linkPrefix + SitePaths.subspaceFolderHref(slug: site.slug)
            lines.append("- [\(Markdown.escape(site.hook))](\(folder + SitePaths.index)): \(site.subspaces.count) subspaces of sizes "
                + site.subspaces.map { String($0.size) }.joined(separator: ", ") + " (\(site.training.steps) training steps).")
            for (taskIndex, task) in site.tasks.enumerated() {
                guard let top = site.subspaces.max(by: { abs($0.effects[taskIndex]) < abs($1.effects[taskIndex]) }) else { continue }
                let shared = top.queries.lazy.compactMap(\.shared.first).first
                let what = shared.map { "its neighbours share: \(Markdown.escape($0.statement)) (\(Markdown.escape($0.support)))" }
                    ?? "no statement separates its neighbours from the other activations"
                let ginis = task.bases.map { "\(Markdown.escape($0.basis)) \(NumberText.fixed($0.gini, 3))" }.joined(separator: ", ")
                lines.append("  - \(Markdown.escape(task.task)): the largest effect is [s\(top.number)](\(folder + SitePaths.subspacePage(top.number))) "
                    + "(\(top.size) columns, effect \(NumberText.fixed(top.effects[taskIndex], 3))); \(what). Gini of the effects: \(ginis).")
            }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
