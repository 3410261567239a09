// The circuit pages' view models: plain values the `circuits-*` templates render. Strings from
// findings are display-cleaned (`DisplayText`) by the builders and HTML-escaped by the templates'
// `{{ }}`. The markup handed to `{{{ }}}` is built by the site from escaped text: SVG figures
// (`CircuitGraphDrawing`, `LineChart`, `AttentionHeatmap`) and token runs (`…HTML` fields).

/// A link to a page, or plain text when there is none (`nodeHref` nil).
struct NodeLinkView: PageView {
    let nodeHref: String?
    let nodeLabel: String
}

/// A column heading of a score table (a method's name).
struct ColumnView: PageView { let columnName: String }

/// One cell of a score table; `cellIn` marks a node inside that method's circuit.
struct ScoreCellView: PageView {
    let cellText: String
    let cellIn: Bool
}

/// One prompt pair: the tokens with those that differ between clean and corrupted marked, and the answers.
struct CircuitPromptView: PageView {
    let promptNumber: String
    /// `<span class="t">token</span>` per token, `t d` where the two prompts differ.
    let cleanHTML, corruptedHTML: String
    /// `<span class="tok">token</span>` per answer.
    let answersHTML, wrongHTML: String
}

/// One method's panel on the task page.
struct MethodPanelView: PageView {
    let methodName: String
    let isBest: Bool
    let sizeText: String
    let circuitNodes: [NodeLinkView]
    let faithText, complText, forwardPasses, backwardPasses, faithChart, faithCaption: String
    /// The ROC chart and its caption, when there is a ground truth and a curve.
    let rocChart, rocCaption: String?
}

/// One row of the AUC table.
struct AUCRowView: PageView {
    let rowMethod, rowNodeAUC, rowEdgeAUC, rowSize, rowFaith, rowCompl: String
}

/// One node's row of the task's score table: its scores under each method.
struct ScoreRowView: PageView {
    let rowNode: NodeLinkView
    let rowCells: [ScoreCellView]
    /// Whether the node belongs to the known circuit (shown when there is one).
    let rowTruth: Bool
}

/// One node's drop from the known circuit.
struct DropRowView: PageView {
    let dropNode: NodeLinkView
    let dropText: String
}

/// The known circuit and the evidence for it.
struct TruthView: PageView {
    let truthNodes: [NodeLinkView]
    /// The known edges, `nil` when it lists none.
    let truthEdges: String?
    let truthFaith, truthCompl: String
    let drops: [DropRowView]
    let truthSource: String
}

/// `circuits/<slug>/index.html` (`circuits-task.mustache`).
struct CircuitTaskPageView: PageView {
    let page: PageChrome
    let taskName, pairsText, cleanMetric, corruptedMetric, metricDefinition, normalisation, ablationName,
        ablationDefinition, context: String
    let prompts: [CircuitPromptView]
    let graphSVG, graphCaption: String
    /// The largest |score| among the drawn edges, `nil` when none is drawn.
    let largestEdge: String?
    let methods: [MethodPanelView]
    let aucRows: [AUCRowView]
    let truth: TruthView?
    let scoreColumns: [ColumnView]
    let scoreRows: [ScoreRowView]
    let hasTruth: Bool
    let summaryHref, graphJSONHref: String
    /// Subspaces (NDM) with a large effect on this task, largest first.
    let subspaceLinks: [SubspaceLinkView]
}

/// A subspace linked from a circuit task's page: where it is, its size and its effect on the task.
struct SubspaceLinkView: PageView {
    let linkHref, linkLabel, linkHook, linkSize, linkEffect: String
    let linkShared: String?
}

/// One attention pattern on a node page.
struct PatternView: PageView {
    let patternSVG, patternCaption: String
}

/// A node's score under one method of the page's task.
struct NodeScoreView: PageView {
    let scoreMethod, scoreValue, scoreRank: String
    let scoreIn: Bool
}

/// A node's scores in one task of the report, a cell per method column.
struct CrossRowView: PageView {
    let crossTask: NodeLinkView
    let crossCells: [ScoreCellView]
}

/// A dictionary feature the head writes to.
struct HeadFeatureView: PageView {
    let featureHref: String?
    let featureLabel, featureWeight: String
}

/// `circuits/<slug>/<node>.html` (`circuits-node.mustache`).
struct CircuitNodePageView: PageView {
    let page: PageChrome
    let nodeID, nodeKind, taskLabel, taskHref, context: String
    let isHead: Bool
    let patterns: [PatternView]
    let taskScores: [NodeScoreView]
    let crossColumns: [ColumnView]
    let crossRows: [CrossRowView]
    let features: [HeadFeatureView]
    /// Whether the report has decoded neighbourhoods (a head's page then lists those reading it).
    let hasNeighbourhoodSection: Bool
    /// The queries of neighbourhood sites reading this head's output.
    let neighbourhoods: [QueryLinkView]
    let prevNode, nextNode: NodeLinkView?
}

/// A circuit task's row in the report index.
struct CircuitIndexRowView: PageView {
    let circHref, circTask, circPairs, circAblation, circBest, circNodeAUC, circSize, circFaith: String

    /// The row of the task of `facts`.
    init(_ facts: CircuitTaskFacts) {
        let best = facts.best
        circHref = SitePaths.circuitFolderHref(slug: facts.task.slug) + SitePaths.index
        circTask = DisplayText.text(facts.task.task)
        circPairs = NumberText.integer(facts.task.pairs)
        circAblation = facts.task.ablation.rawValue
        circBest = best.map { DisplayText.text($0.method) } ?? "—"
        circNodeAUC = CircuitTaskFacts.auc(best?.nodeAUC)
        circSize = best.map { NumberText.integer($0.circuitSize) } ?? "—"
        circFaith = best.map { CircuitTaskFacts.share($0.circuitFaithfulness) } ?? "—"
    }
}
