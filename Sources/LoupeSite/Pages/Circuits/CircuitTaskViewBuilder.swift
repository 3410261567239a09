import LoupeFindings

/// Builds a circuit task's page (`circuits/<slug>/index.html`) from its findings.
enum CircuitTaskViewBuilder {
    /// Edges drawn in the graph at most.
    static let drawnEdges = 30

    static func taskPage(_ facts: CircuitTaskFacts, findings: ReportFindings) -> CircuitTaskPageView {
        let task = facts.task
        let name = DisplayText.text(findings.name)
        let taskName = DisplayText.text(task.task)
        let truthNodes = Set(task.groundTruth?.nodes ?? [])
        let graph = graph(facts)
        let subspaces = subspaceLinks(task: task.task, findings: findings)
        return CircuitTaskPageView(
            page: PageChrome(
                root: "../../", title: "Circuit: \(taskName) · \(name)", findings: findings,
                crumbs: [CrumbView(crumbHref: "../../" + SitePaths.index, crumbLabel: name), CrumbView(crumbHref: nil, crumbLabel: "Circuit: \(taskName)")]),
            taskName: taskName,
            pairsText: NumberText.integer(task.pairs),
            cleanMetric: NumberText.fixed(task.cleanMetric, 3),
            corruptedMetric: NumberText.fixed(task.corruptedMetric, 3),
            metricDefinition: CircuitTaskFacts.metricDefinition,
            normalisation: CircuitTaskFacts.normalisation,
            ablationName: facts.ablationName,
            ablationDefinition: facts.ablationDefinition,
            context: facts.context,
            prompts: task.prompts.enumerated().map { prompt($1, number: $0 + 1) },
            graphSVG: graph.svg,
            graphCaption: graph.caption,
            largestEdge: graph.largest,
            methods: task.methods.map { panel($0, facts: facts) },
            aucRows: task.methods.map { m in
                AUCRowView(
                    rowMethod: DisplayText.text(m.method), rowNodeAUC: CircuitTaskFacts.auc(m.nodeAUC), rowEdgeAUC: CircuitTaskFacts.auc(m.edgeAUC),
                    rowSize: NumberText.integer(m.circuitSize), rowFaith: CircuitTaskFacts.share(m.circuitFaithfulness),
                    rowCompl: CircuitTaskFacts.share(m.circuitCompleteness))
            },
            truth: task.groundTruth.map { truth($0, facts: facts) },
            scoreColumns: task.methods.map { ColumnView(columnName: DisplayText.text($0.method)) },
            scoreRows: facts.nodes.map { ref in
                ScoreRowView(rowNode: link(ref.nodeID, facts: facts), rowCells: task.methods.map { cell($0, node: ref.nodeID) },
                             rowTruth: truthNodes.contains(ref.nodeID))
            },
            hasTruth: task.groundTruth != nil,
            summaryHref: SitePaths.summary,
            graphJSONHref: SitePaths.circuitGraph,
            subspaceLinks: subspaces
        )
    }

    /// The subspaces whose NDM effect on `task` is large (`SubspaceViewBuilder.largeEffect`), largest first.
    static func subspaceLinks(task: String, findings: ReportFindings) -> [SubspaceLinkView] {
        var links: [(effect: Double, view: SubspaceLinkView)] = []
        for site in findings.subspaces?.sites ?? [] {
            guard let taskIndex = site.tasks.firstIndex(where: { $0.task == task }) else { continue }
            for block in site.subspaces where abs(block.effects[taskIndex]) >= SubspaceViewBuilder.largeEffect {
                let shared = block.queries.lazy.compactMap(\.shared.first).first
                links.append((abs(block.effects[taskIndex]), SubspaceLinkView(
                    linkHref: "../../" + SitePaths.subspaceFolderHref(slug: site.slug) + SitePaths.subspacePage(block.number),
                    linkLabel: "s\(block.number)", linkHook: DisplayText.text(site.hook), linkSize: NumberText.integer(block.size),
                    linkEffect: NumberText.fixed(block.effects[taskIndex], 3), linkShared: shared.map { DisplayText.text($0.statement) })))
            }
        }
        return links.sorted { $0.effect > $1.effect }.map(\.view)
    }

    /// A node as a link to its page, or as text when it has none.
    static func link(_ id: String, facts: CircuitTaskFacts) -> NodeLinkView {
        NodeLinkView(nodeHref: facts.nodeHref(id), nodeLabel: DisplayText.text(id))
    }

    /// A node's score under `method` (`—` when unscored), marked when the node is in its circuit.
    static func cell(_ method: CircuitMethodFindings, node id: String) -> ScoreCellView {
        let score = method.nodes.first { $0.id == id }?.score
        return ScoreCellView(cellText: score.map(CircuitTaskFacts.score) ?? "—", cellIn: method.circuit.contains(id))
    }

    static func prompt(_ p: CircuitPrompt, number: Int) -> CircuitPromptView {
        func run(_ tokens: [String], against other: [String]) -> String {
            tokens.enumerated().map { i, token in
                let differs = i >= other.count || other[i] != token
                return "<span class=\"t\(differs ? " d" : "")\">" + DisplayText.escapeHTML(DisplayText.token(token)) + "</span>"
            }.joined()
        }
        func answers(_ tokens: [String]) -> String {
            tokens.map { "<span class=\"tok\">" + DisplayText.escapeHTML(DisplayText.token($0)) + "</span>" }.joined(separator: " ")
        }
        return CircuitPromptView(
            promptNumber: String(number), cleanHTML: run(p.clean, against: p.corrupted), corruptedHTML: run(p.corrupted, against: p.clean),
            answersHTML: answers(p.answers), wrongHTML: answers(p.wrongAnswers))
    }

    /// The layered graph of the best method's circuit, its caption and the largest drawn |edge score|.
    static func graph(_ facts: CircuitTaskFacts) -> (svg: String, caption: String, largest: String?) {
        guard let best = facts.best else {
            return ("", "This task has no method results.", nil)
        }
        let circuit = Set(best.circuit)
        let scores = Dictionary(best.nodes.map { ($0.id, $0.score) }, uniquingKeysWith: { first, _ in first })
        let edges = facts.edgeMethod.map { CircuitGraphDrawing.shownEdges($0.edges, circuit: circuit, limit: drawnEdges) } ?? []
        let method = DisplayText.text(best.method)
        let drawing = CircuitGraphDrawing(
            layers: facts.layers, heads: facts.heads, nodes: facts.nodes.map { ($0, scores[$0.nodeID]) }, circuit: circuit,
            edges: edges, method: best.method, edgeMethod: facts.edgeMethod?.method ?? "", href: facts.nodeHref,
            title: "Circuit of \(best.method) on \(facts.task.task): \(best.circuitSize) nodes")
        var caption = facts.context + ". Nodes (node level): the circuit of \(method), best by node AUC (\(CircuitTaskFacts.auc(best.nodeAUC))), "
            + "its top \(best.circuitSize) nodes by |score|, filled; faithfulness \(CircuitTaskFacts.share(best.circuitFaithfulness)). "
        if let edgeMethod = facts.edgeMethod {
            caption += "Edges (edge level): \(DisplayText.text(edgeMethod.method))'s \(edges.count) largest |score| between the circuit's nodes, input and logits"
            caption += edgeMethod.method == best.method ? "." : " (\(method) scores no edges)."
        } else {
            caption += "No method of this task scores edges, so none are drawn."
        }
        let largest = edges.map { abs($0.score) }.max().map { NumberText.significant($0) }
        return (drawing.svg, caption, largest)
    }

    static func panel(_ m: CircuitMethodFindings, facts: CircuitTaskFacts) -> MethodPanelView {
        let method = DisplayText.text(m.method)
        let values = m.faithfulness
        let finite = values.filter(\.isFinite)
        let faithChart = LineChart(
            points: values.enumerated().map { (Double($0), $1) },
            xRange: 0...Double(max(1, values.count - 1)),
            yRange: min(0, finite.min() ?? 0)...max(1, finite.max() ?? 1),
            rules: [0, 1], mark: (Double(m.circuitSize), "n = \(m.circuitSize)"),
            xLabel: "n: top-n nodes by |score|", yLabel: "faithfulness",
            title: "Faithfulness of \(m.method)'s top-n nodes (node level) · \(facts.context)")
        var rocChart: String? = nil
        var rocCaption: String? = nil
        if facts.task.groundTruth != nil, !m.roc.isEmpty {
            let points = m.roc.filter { $0.count >= 2 }.map { (x: $0[0], y: $0[1]) }
            rocChart = LineChart(
                points: points, xRange: 0...1, yRange: 0...1, rules: [0, 1], mark: nil, diagonal: true,
                xLabel: "false-positive rate", yLabel: "true-positive rate",
                title: "Node ROC of \(m.method) against the known circuit, AUC \(CircuitTaskFacts.auc(m.nodeAUC))").svg
            var text = "Node level: |score| against membership of the known circuit, node AUC \(CircuitTaskFacts.auc(m.nodeAUC))"
            if let edgeAUC = m.edgeAUC { text += "; edge level: edge AUC \(CircuitTaskFacts.auc(edgeAUC))" }
            rocCaption = text + " · " + facts.context + "."
        }
        return MethodPanelView(
            methodName: method,
            isBest: facts.best?.method == m.method,
            sizeText: NumberText.integer(m.circuitSize),
            circuitNodes: m.circuit.map { link($0, facts: facts) },
            faithText: CircuitTaskFacts.share(m.circuitFaithfulness),
            complText: CircuitTaskFacts.share(m.circuitCompleteness),
            forwardPasses: NumberText.integer(m.passes.forward),
            backwardPasses: NumberText.integer(m.passes.backward),
            faithChart: faithChart.svg,
            faithCaption: "Node level: faithfulness (\(CircuitTaskFacts.normalisation)) of the top-n nodes by |score|, "
                + "n = \(m.circuitSize) chosen · \(facts.context).",
            rocChart: rocChart,
            rocCaption: rocCaption
        )
    }

    static func truth(_ t: CircuitTruthFindings, facts: CircuitTaskFacts) -> TruthView {
        TruthView(
            truthNodes: t.nodes.map { link($0, facts: facts) },
            truthEdges: t.edges.isEmpty ? nil : t.edges.map(DisplayText.text).joined(separator: ", "),
            truthFaith: CircuitTaskFacts.share(t.faithfulness),
            truthCompl: CircuitTaskFacts.share(t.completeness),
            drops: t.drops.map { DropRowView(dropNode: link($0.id, facts: facts), dropText: CircuitTaskFacts.share($0.drop)) },
            truthSource: DisplayText.text(t.source)
        )
    }
}
