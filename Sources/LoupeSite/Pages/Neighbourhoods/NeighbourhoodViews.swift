// The neighbourhood pages' view models: plain values the `neighbourhoods-*` templates render. Strings
// from findings are display-cleaned (`DisplayText`) by the builders and HTML-escaped by the templates'
// `{{ }}`. The markup handed to `{{{ }}}` is built by the site from escaped text: token runs
// (`…TokensHTML`, `NeighbourhoodTokens`), distance bars (`DistanceScale.bar`) and the loss chart (`LineChart`).

/// A site: its row in the neighbourhoods' index and the header of its own pages.
struct NeighbourhoodSiteView: PageView {
    /// `siteHref`: the site's index of queries, relative to the page showing the row.
    let siteHref, siteHook: String
    /// `head 2`, nil for a site reading the whole row.
    let siteHead: String?
    /// Hook and head together (`blocks.1.attn.hook_z head 2`).
    let siteLabel: String
    /// The decoder's held-out cross-entropy per token at this site.
    let siteLoss: String
    /// `siteInside`: decoded samples inside ε over all samples of the site's queries.
    let siteInside, siteQueries: String
}

/// `neighbourhoods/index.html` (`neighbourhoods-index.mustache`): the decoder and the sites.
struct NeighbourhoodIndexPageView: PageView {
    let page: PageChrome
    let distanceFormula, epsilonText, decoderPath, decoderSteps, decoderExamples, decoderHeldOut, lossChart,
        lossCaption: String
    let sites: [NeighbourhoodSiteView]
}

/// One query's row on its site's index.
struct NeighbourhoodQueryRowView: PageView {
    let queryHref, queryID: String
    /// `queryTokensHTML`: the query's tokens, its position marked.
    let queryTokensHTML, queryOrigin: String
    /// Decoded samples inside ε over all its samples.
    let queryInside: String
    /// The first thing the samples inside ε share, and its support; nil when nothing is listed.
    let queryShared, querySupport: String?
}

/// `neighbourhoods/<slug>/index.html` (`neighbourhoods-site.mustache`): a site and its queries.
struct NeighbourhoodSitePageView: PageView {
    let page: PageChrome
    let site: NeighbourhoodSiteView
    let distanceFormula, epsilonText: String
    let queries: [NeighbourhoodQueryRowView]
}

/// A retrieved corpus position (`neighbourhoods-retrieved-row.mustache`).
struct RetrievedRowView: PageView {
    /// `retSide`: `inside` or `outside` ε.
    let retSide, retRank, retDocument, retPosition: String
    /// `retTokensHTML`: the window's tokens, the matched (last) one marked.
    let retTokensHTML, retBar, retDistance: String
}

/// A list ordered by distance (`Row` is `RetrievedRowView` or `DecodedRowView`): rows inside ε,
/// then the rule at ε, then rows outside.
struct DistanceListView<Row: PageView>: PageView {
    let listInside, listOutside: [Row]
    /// `k of n inside ε` over the rows shown.
    let listCount: String
    /// What the rows are a part of: corpus positions within ε, or the share of every sample drawn.
    let listTotal: String
    let hasRows: Bool
}

/// A decoded sample (`neighbourhoods-decoded-row.mustache`).
struct DecodedRowView: PageView {
    /// `decSide`: `inside` or `outside` ε.
    let decSide, decRank: String
    /// `decTokensHTML`: the sample's tokens shaded by the decoder's preference, the matched position marked.
    let decTokensHTML, decBar, decDistance, decMatched, decTemperature, decNoise: String
}

/// `neighbourhoods/<slug>/<id>.html` (`neighbourhoods-query.mustache`).
struct NeighbourhoodQueryPageView: PageView {
    let page: PageChrome
    let site: NeighbourhoodSiteView
    let queryID, queryOrigin: String
    /// The atlas page of the feature whose top example the query is, when the atlas has it.
    let exampleHref, exampleLabel: String?
    let queryTokensHTML, positionText: String
    /// How the query's tokens are shaded, for head sites; nil elsewhere.
    let attentionNote: String?
    let distanceFormula, epsilonText, queryInside: String
    let shared: [SharedStatementView]
    let retrieved: DistanceListView<RetrievedRowView>
    let decoded: DistanceListView<DecodedRowView>
    let siteIndexHref: String
    let prevQuery, nextQuery: NodeLinkView?
}

/// A link to a neighbourhood query from another family's page (a circuit head's page).
struct QueryLinkView: PageView {
    let queryLinkHref, queryLinkLabel, queryLinkNote: String
}
