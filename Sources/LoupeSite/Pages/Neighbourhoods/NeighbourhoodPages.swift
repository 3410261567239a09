import LoupeFindings

/// The decoded-neighbourhood pages (InversionView): `neighbourhoods/index.html` (the decoder and the
/// sites), per site `neighbourhoods/<slug>/index.html` (its queries) and one page per query
/// (`neighbourhoods/<slug>/<id>.html`). A report without the section has none.
enum NeighbourhoodPages: PageFamily {
    static let pageTemplates = ["neighbourhoods-index", "neighbourhoods-site", "neighbourhoods-query"]

    static func steps(_ build: SiteBuild) -> [(SiteStep, () throws -> Void)] {
        guard let n = build.findings.neighbourhoods else { return [] }
        return [
            (.renderNeighbourhoodSites, { try renderSites(n, build) }),
            (.renderNeighbourhoodQueries, { try renderQueries(n, build) }),
        ]
    }

    static func renderSites(_ n: NeighbourhoodFindings, _ build: SiteBuild) throws {
        try build.renderSectionIndexes(
            section: SitePaths.neighbourhoods, sites: n.sites, slug: \.slug, step: .renderNeighbourhoodSites,
            index: ("neighbourhoods-index", NeighbourhoodSiteViewBuilder.indexPage(n, findings: build.findings)),
            site: ("neighbourhoods-site", { NeighbourhoodSiteViewBuilder.sitePage($0, in: n, findings: build.findings) }))
    }

    /// Query pages are independent: they are rendered on every core; the first failure in query order is reported.
    static func renderQueries(_ n: NeighbourhoodFindings, _ build: SiteBuild) throws {
        for site in n.sites {
            let folder = SitePaths.siteFolder(section: SitePaths.neighbourhoods, slug: site.slug)
            _ = try site.queries.indices.parallelMap { index in
                let view = NeighbourhoodQueryViewBuilder.queryPage(index, site: site, in: n, findings: build.findings)
                try build.render("neighbourhoods-query", view, to: folder + SitePaths.queryPage(site.queries[index].id),
                                 step: .renderNeighbourhoodQueries)
            }
        }
    }
}
