import LoupeFindings

/// Builds the neighbourhoods' index (`neighbourhoods/index.html`: the decoder and a row per site)
/// and each site's index of queries (`neighbourhoods/<slug>/index.html`).
enum NeighbourhoodSiteViewBuilder {
    /// The title of the family's pages and its crumb.
    static let title = "Decoded neighbourhoods"

    static func indexPage(_ n: NeighbourhoodFindings, findings: ReportFindings) -> NeighbourhoodIndexPageView {
        let name = DisplayText.text(findings.name)
        let decoder = n.decoder
        let losses = decoder.lossCurve.map(\.loss).filter(\.isFinite) + [decoder.heldOutLoss].filter(\.isFinite)
        let lastStep = decoder.lossCurve.map(\.step).max() ?? decoder.steps
        let chart = LineChart(
            points: decoder.lossCurve.map { (Double($0.step), $0.loss) },
            xRange: 0...Double(max(1, lastStep)), yRange: 0...max(losses.max() ?? 1, 1e-9),
            rules: [0] + [decoder.heldOutLoss].filter(\.isFinite), mark: nil,
            xLabel: "training step", yLabel: "cross-entropy per token",
            title: "Training loss of the inversion decoder")
        return NeighbourhoodIndexPageView(
            page: PageChrome(
                root: "../", title: "\(title) · \(name)", findings: findings,
                crumbs: [CrumbView(crumbHref: "../" + SitePaths.index, crumbLabel: name), CrumbView(crumbHref: nil, crumbLabel: title)]),
            distanceFormula: NeighbourhoodText.formula(n.distance),
            epsilonText: NeighbourhoodText.distance(n.epsilon),
            decoderPath: DisplayText.text(decoder.path),
            decoderSteps: NumberText.integer(decoder.steps),
            decoderExamples: NumberText.integer(decoder.examples),
            decoderHeldOut: NumberText.fixed(decoder.heldOutLoss, 3),
            lossChart: chart.svg,
            lossCaption: "Mean next-token cross-entropy of the decoder on its training pairs (activation → input), "
                + "at evenly spaced steps; the dashed rule is the held-out loss over all sites ("
                + NumberText.fixed(decoder.heldOutLoss, 3) + ").",
            sites: n.sites.map { siteView($0, href: SitePaths.urlSegment($0.slug) + "/" + SitePaths.index) })
    }

    static func sitePage(_ site: NeighbourhoodSiteFindings, in n: NeighbourhoodFindings, findings: ReportFindings) -> NeighbourhoodSitePageView {
        let view = siteView(site, href: SitePaths.index)
        return NeighbourhoodSitePageView(
            page: PageChrome(root: "../../", title: "\(view.siteLabel) · \(title) · \(DisplayText.text(findings.name))", findings: findings,
                             crumbs: crumbs(site, findings: findings, query: nil)),
            site: view,
            distanceFormula: NeighbourhoodText.formula(n.distance),
            epsilonText: NeighbourhoodText.distance(n.epsilon),
            queries: site.queries.map { q in
                NeighbourhoodQueryRowView(
                    queryHref: SitePaths.urlSegment(SitePaths.queryPage(q.id)),
                    queryID: DisplayText.text(q.id),
                    queryTokensHTML: NeighbourhoodTokens.query(q, attention: nil),
                    queryOrigin: DisplayText.text(q.origin),
                    queryInside: NumberText.percent(q.insideFraction),
                    queryShared: q.shared.first.map { DisplayText.text($0.statement) },
                    querySupport: q.shared.first.map { DisplayText.text($0.support) })
            })
    }

    /// The row or header of `site`, linking to `href`.
    static func siteView(_ site: NeighbourhoodSiteFindings, href: String) -> NeighbourhoodSiteView {
        NeighbourhoodSiteView(
            siteHref: href,
            siteHook: DisplayText.text(site.hook),
            siteHead: NeighbourhoodText.head(site),
            siteLabel: NeighbourhoodText.site(site),
            siteLoss: NumberText.fixed(site.decoderLoss, 3),
            siteInside: NumberText.percent(site.insideFraction),
            siteQueries: NumberText.integer(site.queries.count))
    }

    /// The breadcrumbs of a page in `site`'s folder: the report, the family, the site and, on a
    /// query's page, the query.
    static func crumbs(_ site: NeighbourhoodSiteFindings, findings: ReportFindings, query: NeighbourhoodQuery?) -> [CrumbView] {
        let label = NeighbourhoodText.site(site)
        return [
            CrumbView(crumbHref: "../../" + SitePaths.index, crumbLabel: DisplayText.text(findings.name)),
            CrumbView(crumbHref: "../" + SitePaths.index, crumbLabel: title),
            CrumbView(crumbHref: query == nil ? nil : SitePaths.index, crumbLabel: label),
        ] + (query.map { [CrumbView(crumbHref: nil, crumbLabel: "Query " + DisplayText.text($0.id))] } ?? [])
    }
}
