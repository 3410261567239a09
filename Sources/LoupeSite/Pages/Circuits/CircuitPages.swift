import Foundation
import LoupeFindings

/// The circuit pages: per task (`circuits/<slug>/`) a task page, `summary.md`, `graph.json`, and one
/// page per head and MLP. A report without circuit findings has none.
enum CircuitPages: PageFamily {
    static let pageTemplates = ["circuits-task", "circuits-node"]

    static func steps(_ build: SiteBuild) -> [(SiteStep, () throws -> Void)] {
        guard let circuits = build.findings.circuits, !circuits.tasks.isEmpty else { return [] }
        let all = circuits.tasks.map(CircuitTaskFacts.init)
        return [
            (.renderCircuitTasks, { try renderTasks(all, build) }),
            (.renderCircuitNodes, { try renderNodes(all, build) }),
        ]
    }

    static func folder(_ facts: CircuitTaskFacts) -> String {
        SitePaths.circuits + "/" + facts.task.slug + "/"
    }

    static func renderTasks(_ all: [CircuitTaskFacts], _ build: SiteBuild) throws {
        for facts in all {
            let folder = folder(facts)
            try build.makeFolder(folder, step: .renderCircuitTasks)
            let summary = CircuitSummary.markdown(task: facts.task, findings: build.findings)
            try build.write(Data(summary.utf8), to: folder + SitePaths.summary, step: .renderCircuitTasks)
            let graph: Data
            do {
                graph = try CircuitGraphFile(facts).data()
            } catch {
                throw SiteError.fileSystem(step: .renderCircuitTasks, path: folder + SitePaths.circuitGraph, reason: "cannot encode the graph: \(error)")
            }
            try build.write(graph, to: folder + SitePaths.circuitGraph, step: .renderCircuitTasks)
            let view = CircuitTaskViewBuilder.taskPage(facts, findings: build.findings)
            try build.render("circuits-task", view, to: folder + SitePaths.index, step: .renderCircuitTasks)
        }
    }

    /// Node pages are independent: they are rendered on every core; the first failure in node order is reported.
    static func renderNodes(_ all: [CircuitTaskFacts], _ build: SiteBuild) throws {
        for facts in all {
            let folder = folder(facts)
            let nodes = facts.nodes
            _ = try nodes.indices.parallelMap { position in
                let view = CircuitNodeViewBuilder.nodePage(nodes[position], facts: facts, all: all, findings: build.findings)
                try build.render("circuits-node", view, to: folder + SitePaths.nodePage(nodes[position].nodeID), step: .renderCircuitNodes)
            }
        }
    }
}
