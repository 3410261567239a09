import LoupeFindings

/// The Markdown a reviewer can paste about circuits: one summary per task (written by the site as
/// `circuits/<slug>/summary.md`) and the paragraph the report's `summary.md` links them from.
/// Every string from data is escaped, so a prompt token cannot become a link, emphasis or HTML.
public enum CircuitSummary {
    /// The summary of one task: its pairs, metric and ablation, the best method's circuit, each
    /// method in one sentence, the AUC table (every method) and the evidence for the ground truth.
    public static func markdown(task: CircuitTaskFindings, findings: ReportFindings) -> String {
        let facts = CircuitTaskFacts(task)
        var lines = [
            "# Circuit: \(Markdown.escape(task.task))", "",
            "Model \(Markdown.escape(findings.model.path)) (\(findings.model.layers) layers, \(findings.model.heads) heads), "
                + "\(task.pairs) clean/corrupted prompt pairs.", "",
            "- Metric: \(CircuitTaskFacts.metricDefinition): clean \(NumberText.fixed(task.cleanMetric, 3)), "
                + "corrupted \(NumberText.fixed(task.corruptedMetric, 3)). Faithfulness and completeness are \(CircuitTaskFacts.normalisation).",
            "- Ablation: \(facts.ablationName): \(facts.ablationDefinition).",
            "",
        ]
        if let best = facts.best {
            lines += [
                "## Circuit of \(Markdown.escape(best.method))", "",
                "Best method by node AUC: \(Markdown.escape(best.method)) (node AUC \(CircuitTaskFacts.auc(best.nodeAUC))). "
                    + "Its circuit of \(best.circuitSize) nodes: \(best.circuit.map(code).joined(separator: ", ")).", "",
                "## Methods", "",
            ]
            for method in task.methods { lines.append("- " + sentence(method)) }
            lines.append("")
        }
        lines += ["## Agreement with the known circuit", ""]
        lines += aucTable(task.methods)
        lines.append("")
        if let truth = task.groundTruth {
            lines += ["## Known circuit", ""]
            lines.append("Nodes: \(truth.nodes.map(code).joined(separator: ", ")).")
            var evidence = "Keeping only these nodes (\(facts.ablationName) of the rest) gives faithfulness "
                + "\(CircuitTaskFacts.share(truth.faithfulness)); ablating them leaves \(CircuitTaskFacts.share(truth.completeness)) (completeness)."
            if let smallest = truth.drops.filter({ $0.drop.isFinite }).min(by: { $0.drop < $1.drop }) {
                evidence += " Dropping any single node loses at least \(CircuitTaskFacts.share(smallest.drop)) "
                    + "(smallest drop: \(code(smallest.id)))."
            }
            lines += ["", evidence, "", "Source: \(Markdown.escape(truth.source)).", ""]
        } else {
            lines += ["No known circuit was given, so the AUC columns are empty.", ""]
        }
        return lines.joined(separator: "\n")
    }

    /// A `## Circuits` section for the report's `summary.md`: per task a link to its
    /// `circuits/<slug>/summary.md` (prefixed with `linkPrefix`, e.g. `site/` for a copy beside the
    /// site folder), its pairs and the best method's node AUC. Empty when the report has no circuits.
    public static func reportParagraph(findings: ReportFindings, linkPrefix: String = "") -> String {
        guard let circuits = findings.circuits, !circuits.tasks.isEmpty else { return "" }
        var lines = ["## Circuits", ""]
        for task in circuits.tasks {
            let facts = CircuitTaskFacts(task)
            let link = linkPrefix + SitePaths.circuitFolderHref(slug: task.slug) + SitePaths.summary
            var line = "- [\(Markdown.escape(task.task))](\(link)): \(task.pairs) pairs, \(facts.ablationName)"
            if let best = facts.best {
                line += "; best method \(Markdown.escape(best.method)) (node AUC \(CircuitTaskFacts.auc(best.nodeAUC))), "
                    + "circuit of \(best.circuitSize) nodes, faithfulness \(CircuitTaskFacts.share(best.circuitFaithfulness))"
            }
            lines.append(line + ".")
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// One method in one sentence: its circuit's size, faithfulness, completeness and cost.
    static func sentence(_ method: CircuitMethodFindings) -> String {
        "**\(Markdown.escape(method.method))**: its top \(method.circuitSize) nodes keep "
            + "\(CircuitTaskFacts.share(method.circuitFaithfulness)) of the metric (faithfulness) and ablating them leaves "
            + "\(CircuitTaskFacts.share(method.circuitCompleteness)) (completeness); "
            + "\(method.passes.forward) forward and \(method.passes.backward) backward passes."
    }

    /// The AUC table as Markdown, one row per method.
    static func aucTable(_ methods: [CircuitMethodFindings]) -> [String] {
        var rows = [
            "| method | node AUC | edge AUC | circuit size | faithfulness | completeness |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for m in methods {
            rows.append("| \(Markdown.escape(m.method)) | \(CircuitTaskFacts.auc(m.nodeAUC)) | \(CircuitTaskFacts.auc(m.edgeAUC)) | "
                + "\(m.circuitSize) | \(CircuitTaskFacts.share(m.circuitFaithfulness)) | \(CircuitTaskFacts.share(m.circuitCompleteness)) |")
        }
        return rows
    }

    /// A node id as code when it is one (`a1.h2`), escaped text otherwise.
    static func code(_ id: String) -> String {
        CircuitNodeRef(id) != nil ? "`\(id)`" : Markdown.escape(id)
    }
}
