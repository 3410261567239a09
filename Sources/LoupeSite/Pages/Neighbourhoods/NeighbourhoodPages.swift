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

    /// A site's folder, relative to the site root, ending in `/`.
    static func folder(_ site: NeighbourhoodSiteFindings) -> String {
        SitePaths.neighbourhoods + "/" + site.slug + "/"
    }

    static func renderSites(_ n: NeighbourhoodFindings, _ build: SiteBuild) throws {
        try build.makeFolder(SitePaths.neighbourhoods, step: .renderNeighbourhoodSites)
        try build.render("neighbourhoods-index", NeighbourhoodSiteViewBuilder.indexPage(n, findings: build.findings),
                         to: SitePaths.neighbourhoods + "/" + SitePaths.index, step: .renderNeighbourhoodSites)
        for site in n.sites {
            try build.makeFolder(folder(site), step: .renderNeighbourhoodSites)
            try build.render("neighbourhoods-site", NeighbourhoodSiteViewBuilder.sitePage(site, in: n, findings: build.findings),
                             to: folder(site) + SitePaths.index, step: .renderNeighbourhoodSites)
        }
    }

    /// Query pages are independent: they are rendered on every core; the first failure in query order is reported.
    static func renderQueries(_ n: NeighbourhoodFindings, _ build: SiteBuild) throws {
        for site in n.sites {
            _ = try site.queries.indices.parallelMap { index in
                let view = NeighbourhoodQueryViewBuilder.queryPage(index, site: site, in: n, findings: build.findings)
                try build.render("neighbourhoods-query", view, to: folder(site) + SitePaths.queryPage(site.queries[index].id),
                                 step: .renderNeighbourhoodQueries)
            }
        }
    }
}
