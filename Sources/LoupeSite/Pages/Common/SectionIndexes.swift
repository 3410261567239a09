/// The two index levels the neighbourhood and subspace pages share: `<section>/index.html` listing
/// the section's sites, and per site a folder `<section>/<slug>/` whose `index.html` lists its pages.
extension SiteBuild {
    /// Writes the section's index from `index`, then each site's folder and index from `site`.
    func renderSectionIndexes<Site, IndexView: PageView, SiteView: PageView>(
        section: String, sites: [Site], slug: (Site) -> String, step: SiteStep,
        index: (template: String, view: IndexView), site: (template: String, view: (Site) -> SiteView)
    ) throws {
        try makeFolder(section, step: step)
        try render(index.template, index.view, to: section + "/" + SitePaths.index, step: step)
        for each in sites {
            let folder = SitePaths.siteFolder(section: section, slug: slug(each))
            try makeFolder(folder, step: step)
            try render(site.template, site.view(each), to: folder + SitePaths.index, step: step)
        }
    }
}
