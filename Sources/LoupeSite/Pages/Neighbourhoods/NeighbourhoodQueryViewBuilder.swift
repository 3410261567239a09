import LoupeFindings

/// Builds a query's page (`neighbourhoods/<slug>/<id>.html`): the query in context, what the
/// samples inside ε share, and the retrieved and decoded lists ordered by distance with a rule at ε.
enum NeighbourhoodQueryViewBuilder {
    /// The page of `site.queries[index]`.
    static func queryPage(_ index: Int, site: NeighbourhoodSiteFindings, in n: NeighbourhoodFindings, findings: ReportFindings) -> NeighbourhoodQueryPageView {
        let q = site.queries[index]
        let id = DisplayText.text(q.id)
        let siteView = NeighbourhoodSiteViewBuilder.siteView(site, href: SitePaths.index)
        let attention = site.head == nil ? nil : q.attention
        let scale = DistanceScale(epsilon: n.epsilon, distances: q.retrieved.map(\.distance) + q.samples.map(\.distance))
        let exampleHref = q.featureExample.flatMap { NeighbourhoodLinks.examplePage($0, findings: findings) }
        let neighbour = { (offset: Int) -> NodeLinkView? in
            guard site.queries.indices.contains(index + offset) else { return nil }
            let other = site.queries[index + offset]
            return NodeLinkView(nodeHref: SitePaths.urlSegment(SitePaths.queryPage(other.id)), nodeLabel: "Query " + DisplayText.text(other.id))
        }
        return NeighbourhoodQueryPageView(
            page: PageChrome(
                root: "../../", title: "Query \(id) · \(siteView.siteLabel) · \(DisplayText.text(findings.name))", findings: findings,
                crumbs: NeighbourhoodSiteViewBuilder.crumbs(site, findings: findings, query: q)),
            site: siteView,
            queryID: id,
            queryOrigin: DisplayText.text(q.origin),
            exampleHref: exampleHref.map { "../../" + $0 },
            exampleLabel: q.featureExample.map { "top example \($0.example + 1) of feature \($0.feature)" },
            queryTokensHTML: NeighbourhoodTokens.query(q, attention: attention),
            positionText: positionText(q),
            attentionNote: attention.map { _ in
                "Each token up to the query position is shaded by the attention weight \(siteView.siteHead ?? "the head") gives it from the query position (darker is more; hover a token for its weight)."
            },
            distanceFormula: NeighbourhoodText.formula(n.distance),
            epsilonText: NeighbourhoodText.distance(n.epsilon),
            queryInside: NumberText.percent(q.insideFraction),
            shared: q.shared.map(SharedStatementView.init),
            retrieved: retrievedList(q, scale: scale),
            decoded: decodedList(q, scale: scale),
            siteIndexHref: SitePaths.index,
            prevQuery: neighbour(-1),
            nextQuery: neighbour(1))
    }

    /// `position 7 of 12 (“ x”)`.
    static func positionText(_ q: NeighbourhoodQuery) -> String {
        var text = "position \(q.position) of \(q.tokens.count) tokens"
        if q.tokens.indices.contains(q.position) { text += " (“" + DisplayText.token(q.tokens[q.position]) + "”)" }
        return text
    }

    static func retrievedList(_ q: NeighbourhoodQuery, scale: DistanceScale) -> DistanceListView<RetrievedRowView> {
        list(q.retrieved, distance: \.distance, scale: scale,
             total: "\(NumberText.integer(q.inside)) of \(NumberText.integer(q.candidates)) corpus positions lie within ε") { r, side in
            RetrievedRowView(
                retSide: side, retRank: String(r.rank), retDocument: String(r.item.document), retPosition: String(r.item.position),
                retTokensHTML: NeighbourhoodTokens.retrieved(r.item),
                retBar: scale.bar(r.item.distance), retDistance: NeighbourhoodText.distance(r.item.distance))
        }
    }

    static func decodedList(_ q: NeighbourhoodQuery, scale: DistanceScale) -> DistanceListView<DecodedRowView> {
        list(q.samples, distance: \.distance, scale: scale,
             total: NumberText.percent(q.insideFraction) + " of every sample drawn for this query") { r, side in
            DecodedRowView(
                decSide: side, decRank: String(r.rank),
                decTokensHTML: NeighbourhoodTokens.decoded(r.item),
                decBar: scale.bar(r.item.distance), decDistance: NeighbourhoodText.distance(r.item.distance),
                decMatched: String(r.item.matchedPosition),
                decTemperature: NeighbourhoodText.compact(r.item.temperature),
                decNoise: NeighbourhoodText.compact(r.item.noise))
        }
    }

    /// `items` as a list split at ε, each made a row by `row` from its rank and side (`inside`, `outside`).
    static func list<Item, Row: PageView>(
        _ items: [Item], distance: (Item) -> Double, scale: DistanceScale, total: String,
        row: (DistanceScale.Ranked<Item>, String) -> Row
    ) -> DistanceListView<Row> {
        let (inside, outside) = scale.split(items, distance: distance)
        return DistanceListView(
            listInside: inside.map { row($0, "inside") }, listOutside: outside.map { row($0, "outside") },
            listCount: DistanceScale.count(inside: inside.count, of: items.count), listTotal: total, hasRows: !items.isEmpty)
    }
}
