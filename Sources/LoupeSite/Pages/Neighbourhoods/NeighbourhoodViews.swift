// The neighbourhood pages' view models: plain values the `neighbourhoods-*` templates render. Strings
// from findings are display-cleaned (`DisplayText`) by the builders and HTML-escaped by the templates'
// `{{ }}`. The markup handed to `{{{ }}}` is built by the site from escaped text: token runs
// (`…TokensHTML`, `NeighbourhoodTokens`), distance bars (`DistanceScale.bar`) and the loss chart (`LineChart`).

/// A site: its row in the neighbourhoods' index and the header of its own pages.
struct NeighbourhoodSiteView: PageView {
    /// The site's index of queries, relative to the page showing the row.
    let siteHref: String
    let siteHook: String
    /// `head 2`, nil for a site reading the whole row.
    let siteHead: String?
    /// Hook and head together (`blocks.1.attn.hook_z head 2`).
    let siteLabel: String
    /// The decoder's held-out cross-entropy per token at this site.
    let siteLoss: String
    /// Decoded samples inside ε over all samples of the site's queries.
    let siteInside: String
    let siteQueries: String
}

/// `neighbourhoods/index.html` (`neighbourhoods-index.mustache`): the decoder and the sites.
struct NeighbourhoodIndexPageView: PageView {
    let page: PageChrome
    let distanceFormula: String
    let epsilonText: String
    let decoderPath: String
    let decoderSteps: String
    let decoderExamples: String
    let decoderHeldOut: String
    let lossChart: String
    let lossCaption: String
    let sites: [NeighbourhoodSiteView]
    let hasSites: Bool
}

/// One query's row on its site's index.
struct NeighbourhoodQueryRowView: PageView {
    let queryHref: String
    let queryID: String
    /// The query's tokens, its position marked.
    let queryTokensHTML: String
    let queryOrigin: String
    /// Decoded samples inside ε over all its samples.
    let queryInside: String
    /// The first thing the samples inside ε share, and its support; nil when nothing is listed.
    let queryShared: String?
    let querySupport: String?
}

/// `neighbourhoods/<slug>/index.html` (`neighbourhoods-site.mustache`): a site and its queries.
struct NeighbourhoodSitePageView: PageView {
    let page: PageChrome
    let site: NeighbourhoodSiteView
    let distanceFormula: String
    let epsilonText: String
    let queries: [NeighbourhoodQueryRowView]
    let hasQueries: Bool
}

/// One thing the samples inside ε share, and how many on each side hold it.
struct SharedStatementView: PageView {
    let sharedStatement: String
    let sharedSupport: String
}

/// A retrieved corpus position (`neighbourhoods-retrieved-row.mustache`).
struct RetrievedRowView: PageView {
    /// `inside` or `outside` ε.
    let retSide: String
    let retRank: String
    let retDocument: String
    let retPosition: String
    /// The window's tokens, the matched (last) one marked.
    let retTokensHTML: String
    let retBar: String
    let retDistance: String
}

/// A list ordered by distance (`Row` is `RetrievedRowView` or `DecodedRowView`): rows inside ε,
/// then the rule at ε, then rows outside.
struct DistanceListView<Row: PageView>: PageView {
    let listInside: [Row]
    let listOutside: [Row]
    /// `k of n inside ε` over the rows shown.
    let listCount: String
    /// What the rows are a part of: corpus positions within ε, or the share of every sample drawn.
    let listTotal: String
    let hasRows: Bool
}

/// A decoded sample (`neighbourhoods-decoded-row.mustache`).
struct DecodedRowView: PageView {
    /// `inside` or `outside` ε.
    let decSide: String
    let decRank: String
    /// The sample's tokens shaded by the decoder's preference, the matched position marked.
    let decTokensHTML: String
    let decBar: String
    let decDistance: String
    let decMatched: String
    let decTemperature: String
    let decNoise: String
}

/// `neighbourhoods/<slug>/<id>.html` (`neighbourhoods-query.mustache`).
struct NeighbourhoodQueryPageView: PageView {
    let page: PageChrome
    let site: NeighbourhoodSiteView
    let queryID: String
    let queryOrigin: String
    /// The atlas page of the feature whose top example the query is, when the atlas has it.
    let exampleHref: String?
    let exampleLabel: String?
    let queryTokensHTML: String
    let positionText: String
    /// How the query's tokens are shaded, for head sites; nil elsewhere.
    let attentionNote: String?
    let distanceFormula: String
    let epsilonText: String
    let queryInside: String
    let shared: [SharedStatementView]
    let hasShared: Bool
    let retrieved: DistanceListView<RetrievedRowView>
    let decoded: DistanceListView<DecodedRowView>
    let siteIndexHref: String
    let prevQuery: NodeLinkView?
    let nextQuery: NodeLinkView?
}

/// A link to a neighbourhood query from another family's page (a circuit head's page).
struct QueryLinkView: PageView {
    let queryLinkHref: String
    let queryLinkLabel: String
    let queryLinkNote: String
}
