/// A family of pages rendered from one section of the findings (the atlas, circuits, decoded
/// neighbourhoods, subspaces): its page templates and the steps that write its pages.
protocol PageFamily {
    /// The page templates the family renders (`Templates/<name>.mustache`), checked when templates load.
    static var pageTemplates: [String] { get }

    /// The family's steps in order; each writes into `build`'s staging folder.
    static func steps(_ build: SiteBuild) -> [(SiteStep, () throws -> Void)]
}

/// Every page family of a site, in the order their steps run.
let pageFamilies: [any PageFamily.Type] = [AtlasPages.self, CircuitPages.self, NeighbourhoodPages.self, SubspacePages.self]
