// The subspace pages' view models: plain values the `subspaces-*` templates render. Strings from
// findings are display-cleaned (`DisplayText`) by the builder and HTML-escaped by the templates'
// `{{ }}`. Markup handed to `{{{ }}}` is built by the site from escaped text: token runs
// (`TokenRun`), the partition strip and effect charts (`SubspaceCharts`) and the loss chart (`LineChart`).

/// A site's row on the subspaces' index.
struct SubspaceSiteRowView: PageView {
    let siteHref: String
    let siteHook: String
    let siteCount: String
    let siteSizes: String
    /// Per task: NDM's Gini and the best baseline's.
    let siteGinis: [GiniCellView]
}

/// A task's Gini coefficients: NDM's against the best baseline's.
struct GiniCellView: PageView {
    let giniTask: String
    let giniNDM: String
    let giniBaseline: String
    let giniBaselineName: String
    /// Whether NDM's effects are more concentrated than every baseline's.
    let ndmWins: Bool
}

/// `subspaces/index.html` (`subspaces-index.mustache`).
struct SubspaceIndexPageView: PageView {
    let page: PageChrome
    let similarityText: String
    let sites: [SubspaceSiteRowView]
}

/// One basis's row of a task's comparison table.
struct SubspaceBasisRowView: PageView {
    let basisName: String
    let basisGini: String
    let basisLargest: String
    let isNDM: Bool
}

/// A task's causal check on a site page.
struct SubspaceTaskView: PageView {
    let taskName: String
    let taskPairs: String
    let taskClean: String
    let taskCorrupted: String
    let effectChart: String
    let bases: [SubspaceBasisRowView]
}

/// A subspace's row on its site page.
struct SubspaceRowView: PageView {
    let subspaceHref: String
    let subspaceLabel: String
    let subspaceSize: String
    let subspaceVariance: String
    let subspaceEffects: [EffectCellView]
    let subspaceShared: String?
    let subspaceSupport: String?
}

/// An effect in a table cell, marked when large.
struct EffectCellView: PageView {
    let effectText: String
    let effectLarge: Bool
}

/// A merging round's row.
struct MergeRoundView: PageView {
    let roundStep: String
    let roundBlocks: String
    let roundLargest: String
    let roundMerged: String
}

/// `subspaces/<slug>/index.html` (`subspaces-site.mustache`).
struct SubspaceSitePageView: PageView {
    let page: PageChrome
    let hook: String
    let widthText: String
    let samplesText: String
    let stepsText: String
    let blockSizeText: String
    let thresholdText: String
    let endText: String
    let pathText: String
    let partitionChart: String
    let tasks: [SubspaceTaskView]
    let hasTasks: Bool
    let taskNames: [TaskHeaderView]
    let subspaces: [SubspaceRowView]
    let lossChart: String
    let rounds: [MergeRoundView]
    let hasRounds: Bool
}

/// A task's column header.
struct TaskHeaderView: PageView {
    let headerTask: String
}

/// A token in context (a query or a neighbour).
struct SubspaceTokenRowView: PageView {
    let tokenSimilarity: String
    let tokenDocument: String
    let tokenPosition: String
    let tokenHTML: String
}

/// A statement of what the neighbours share, with its support.
struct SharedView: PageView {
    let sharedStatement: String
    let sharedSupport: String
}

/// One query on a subspace page.
struct SubspaceQueryView: PageView {
    let queryNumber: String
    let query: SubspaceTokenRowView
    let insideText: String
    let shared: [SharedView]
    let hasShared: Bool
    let neighbours: [SubspaceTokenRowView]
    let hasNeighbours: Bool
}

/// A task's effect on a subspace page: NDM's effect of this subspace, and its rank.
struct SubspaceEffectView: PageView {
    let effectTask: String
    let effectValue: String
    let effectRank: String
}

/// `subspaces/<slug>/s<n>.html` (`subspaces-subspace.mustache`).
struct SubspacePageView: PageView {
    let page: PageChrome
    let title: String
    let hook: String
    let sizeText: String
    let varianceText: String
    let similarityText: String
    let effects: [SubspaceEffectView]
    let hasEffects: Bool
    let queries: [SubspaceQueryView]
    let previousHref: String?
    let nextHref: String?
}
