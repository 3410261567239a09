import LoupeFindings

/// The subspace pages (NDM): `subspaces/index.html` (the sites), per site `subspaces/<slug>/index.html`
/// (partition, causal checks, training) and one page per subspace (`subspaces/<slug>/s<n>.html`).
/// A report without the section has none.
enum SubspacePages: PageFamily {
    static let pageTemplates = ["subspaces-index", "subspaces-site", "subspaces-subspace"]

    static func steps(_ build: SiteBuild) -> [(SiteStep, () throws -> Void)] {
        guard let s = build.findings.subspaces else { return [] }
        return [
            (.renderSubspaceSites, { try renderSites(s, build) }),
            (.renderSubspacePages, { try renderSubspaces(s, build) }),
        ]
    }

    /// A site's folder, relative to the site root, ending in `/`.
    static func folder(_ site: SubspaceSiteFindings) -> String {
        SitePaths.subspaces + "/" + site.slug + "/"
    }

    static func renderSites(_ s: SubspaceFindings, _ build: SiteBuild) throws {
        try build.makeFolder(SitePaths.subspaces, step: .renderSubspaceSites)
        try build.render("subspaces-index", SubspaceViewBuilder.indexPage(s, findings: build.findings),
                         to: SitePaths.subspaces + "/" + SitePaths.index, step: .renderSubspaceSites)
        for site in s.sites {
            try build.makeFolder(folder(site), step: .renderSubspaceSites)
            try build.render("subspaces-site", SubspaceViewBuilder.sitePage(site, in: s, findings: build.findings),
                             to: folder(site) + SitePaths.index, step: .renderSubspaceSites)
        }
    }

    static func renderSubspaces(_ s: SubspaceFindings, _ build: SiteBuild) throws {
        for site in s.sites {
            for index in site.subspaces.indices {
                try build.render("subspaces-subspace", SubspaceViewBuilder.subspacePage(index, site: site, in: s, findings: build.findings),
                                 to: folder(site) + SitePaths.subspacePage(site.subspaces[index].number), step: .renderSubspacePages)
            }
        }
    }
}
