// The subspace pages' view models: plain values the `subspaces-*` templates render. Strings from
// findings are display-cleaned (`DisplayText`) by the builder and HTML-escaped by the templates'
// `{{ }}`. Markup handed to `{{{ }}}` is built by the site from escaped text: token runs
// (`TokenRun`), the partition strip and effect charts (`SubspaceCharts`) and the loss chart (`LineChart`).

/// A site's row on the subspaces' index.
struct SubspaceSiteRowView: PageView {
    let siteHref, siteHook, siteCount, siteSizes: String
    /// Per task: NDM's Gini and the best baseline's.
    let siteGinis: [GiniCellView]
}

/// A task's Gini coefficients: NDM's against the best baseline's.
struct GiniCellView: PageView {
    let giniTask, giniNDM, giniBaseline, giniBaselineName: String
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
    let basisName, basisGini, basisLargest: String
    let isNDM: Bool
}

/// A task's causal check on a site page.
struct SubspaceTaskView: PageView {
    let taskName, taskPairs, taskClean, taskCorrupted, effectChart: String
    let bases: [SubspaceBasisRowView]
}

/// A subspace's row on its site page.
struct SubspaceRowView: PageView {
    let subspaceHref, subspaceLabel, subspaceSize, subspaceVariance: String
    let subspaceEffects: [EffectCellView]
    let subspaceShared, subspaceSupport: String?
}

/// An effect in a table cell, marked when large.
struct EffectCellView: PageView {
    let effectText: String
    let effectLarge: Bool
}

/// A merging round's row.
struct MergeRoundView: PageView {
    let roundStep, roundBlocks, roundLargest, roundMerged: String
}

/// `subspaces/<slug>/index.html` (`subspaces-site.mustache`).
struct SubspaceSitePageView: PageView {
    let page: PageChrome
    let hook, widthText, samplesText, stepsText, blockSizeText, thresholdText, endText, pathText,
        partitionChart: String
    let tasks: [SubspaceTaskView]
    let taskNames: [TaskHeaderView]
    let subspaces: [SubspaceRowView]
    let lossChart: String
    let rounds: [MergeRoundView]
}

/// A task's column header.
struct TaskHeaderView: PageView { let headerTask: String }

/// A token in context (a query or a neighbour).
struct SubspaceTokenRowView: PageView {
    let tokenSimilarity, tokenDocument, tokenPosition, tokenHTML: String
}

/// One query on a subspace page.
struct SubspaceQueryView: PageView {
    let queryNumber: String
    let query: SubspaceTokenRowView
    let insideText: String
    let shared: [SharedStatementView]
    let neighbours: [SubspaceTokenRowView]
}

/// A task's effect on a subspace page: NDM's effect of this subspace, and its rank.
struct SubspaceEffectView: PageView {
    let effectTask, effectValue, effectRank: String
}

/// `subspaces/<slug>/s<n>.html` (`subspaces-subspace.mustache`).
struct SubspacePageView: PageView {
    let page: PageChrome
    let title, hook, sizeText, varianceText, similarityText: String
    let effects: [SubspaceEffectView]
    let queries: [SubspaceQueryView]
    let previousHref, nextHref: String?
}
