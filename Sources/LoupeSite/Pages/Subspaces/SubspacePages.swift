import LoupeFindings

/// The subspace pages (NDM): `subspaces/index.html` (the sites), per site `subspaces/<slug>/index.html`
/// (partition, causal checks, training) and one page per subspace (`subspaces/<slug>/s<n>.html`).
/// A report without the section has none.
enum SubspacePages: PageFamily {
    static let pageTemplates = ["subspaces-index", "subspaces-site", "subspaces-subspace"]

    static func steps(_ build: SiteBuild) -> [(SiteStep, () throws -> Void)] {
        guard let s = build.findings.subspaces else { return [] }
        return [(.renderSubspaceSites, { try renderSites(s, build) }), (.renderSubspacePages, { try renderSubspaces(s, build) })]
    }

    static func renderSubspaces(_ s: SubspaceFindings, _ build: SiteBuild) throws {
        for site in s.sites {
            let folder = SitePaths.siteFolder(section: SitePaths.subspaces, slug: site.slug)
            for index in site.subspaces.indices {
                try build.render("subspaces-subspace", SubspaceViewBuilder.subspacePage(index, site: site, in: s, findings: build.findings),
                                 to: folder + SitePaths.subspacePage(site.subspaces[index].number), step: .renderSubspacePages)
            }
        }
    }

    static func renderSites(_ s: SubspaceFindings, _ build: SiteBuild) throws {
        try build.renderSectionIndexes(
            section: SitePaths.subspaces, sites: s.sites, slug: \.slug, step: .renderSubspaceSites,
            index: ("subspaces-index", SubspaceViewBuilder.indexPage(s, findings: build.findings)),
            site: ("subspaces-site", { SubspaceViewBuilder.sitePage($0, in: s, findings: build.findings) }))
    }
}
