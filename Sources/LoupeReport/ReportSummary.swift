import Foundation
import LoupeFindings
import LoupeSite

/// The Markdown summary of a report (`summary.md`): readable on its own, e.g. pasted into a review.
/// Every string from data is escaped, so a token cannot become a link, emphasis or HTML.
public enum ReportSummary {
    /// Writes the summary of `findings` under the report's `title`.
    public static func markdown(title: String, findings: ReportFindings) -> String {
        var lines: [String] = ["# \(escape(title))", ""]
        let model = findings.model
        let corpus = findings.corpus
        lines.append(
            "A \(model.layers)-layer GPT-2 model (width \(model.width), \(model.heads) heads, vocabulary of "
                + "\(model.vocabularySize) tokens), read over \(corpus.documents) documents "
                + "(\(corpus.tokens) tokens, windows of \(corpus.contextLength)).")
        lines.append("")
        for dictionary in findings.dictionaries {
            lines.append("## `\(dictionary.hook)` — \(dictionary.width) \(dictionary.kind == .neurons ? "neurons" : "features (\(dictionary.kind.rawValue))")")
            lines.append("")
            lines.append("Source: \(escape(dictionary.source)).")
            lines.append("")
            if let quality = dictionary.quality {
                lines.append("Reconstruction, measured on \(quality.tokens) corpus tokens:")
                lines.append("")
                lines.append("- fraction of variance explained: \(format(quality.fractionOfVarianceExplained))")
                lines.append("- mean squared error: \(format(quality.meanSquaredError, digits: 5))")
                lines.append("- mean L0 (active features per token): \(format(quality.meanL0, digits: 1))")
                lines.append("- dead features (never firing on those tokens): \(percent(quality.deadFraction))")
                lines.append("- next-token cross-entropy, clean / with the reconstruction spliced in / hook zeroed: \(format(quality.cleanLoss)) / \(format(quality.reconstructedLoss)) / \(format(quality.zeroAblatedLoss))")
                lines.append("- loss recovered: \(percent(quality.lossRecovered))")
                lines.append("")
            }
            let alive = dictionary.features.filter { $0.density > 0 }
            lines.append("\(alive.count) of \(dictionary.width) fire on the corpus.")
            if let detection = dictionary.medianDetection, let simulation = dictionary.medianSimulation {
                let explained = dictionary.features.filter { $0.explanation != nil }.count
                lines.append(
                    "Explanations were fitted on explanation documents and scored on held-out documents: "
                        + "median detection balanced accuracy **\(format(detection))**, median simulation correlation "
                        + "**\(format(simulation))** over \(explained) explained features.")
            }
            if let accounting = dictionary.languageModel {
                lines.append("")
                lines.append("Language model: " + escape(LanguageModelText.sentence(accounting)) + ".")
            }
            lines.append("")
            let best = dictionary.features
                .compactMap { feature in feature.explanation.map { (feature, $0) } }
                .sorted { ($0.1.detection, -$0.0.index) > ($1.1.detection, -$1.0.index) }
                .prefix(5)
            if !best.isEmpty {
                lines.append("Best-explained features:")
                lines.append("")
                for (feature, explanation) in best {
                    lines.append("- feature \(feature.index): \(escape(explanation.text)) (detection \(format(explanation.detection)), simulation \(format(explanation.simulation)), density \(percent(feature.density)))")
                }
                lines.append("")
            }
        }
        let circuits = CircuitSummary.reportParagraph(findings: findings)
        if !circuits.isEmpty { lines.append(circuits) }
        let neighbourhoods = NeighbourhoodSummary.reportParagraph(findings: findings)
        if !neighbourhoods.isEmpty { lines.append(neighbourhoods) }
        let subspaces = SubspaceSummary.reportParagraph(findings: findings)
        if !subspaces.isEmpty { lines.append(subspaces) }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double, digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

    static func percent(_ value: Double) -> String { String(format: "%.1f %%", 100 * value) }

    /// Escapes Markdown syntax in text from data, so tokens cannot become links, emphasis or HTML.
    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\`*_{}[]()#+-.!<>|~&\"".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out.replacingOccurrences(of: "\n", with: " ")
    }
}
