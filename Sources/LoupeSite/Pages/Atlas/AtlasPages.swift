import Foundation
import LoupeFindings

/// The atlas's pages: per dictionary a feature table (`<id>/index.html` with its data in
/// `<id>/features.js`) and one page per feature (`<id>/features/<index>.html`).
enum AtlasPages: PageFamily {
    static let pageTemplates = ["atlas-dictionary", "atlas-feature"]

    static func steps(_ build: SiteBuild) -> [(SiteStep, () throws -> Void)] {
        [
            (.renderFeatureTable, { try renderFeatureTables(build) }),
            (.renderFeaturePages, { try renderFeaturePages(build) }),
        ]
    }

    static func renderFeatureTables(_ build: SiteBuild) throws {
        for dictionary in build.findings.dictionaries {
            let folder = dictionary.id
            try build.makeFolder(folder, step: .renderFeatureTable)
            let script: Data
            do {
                script = try FeatureTableData.script(for: dictionary)
            } catch {
                throw SiteError.fileSystem(step: .renderFeatureTable, path: folder + "/" + SitePaths.featureData, reason: "cannot encode table data: \(error)")
            }
            try build.write(script, to: folder + "/" + SitePaths.featureData, step: .renderFeatureTable)
            let view = AtlasViewBuilder.dictionaryPage(dictionary, findings: build.findings)
            try build.render("atlas-dictionary", view, to: folder + "/" + SitePaths.index, step: .renderFeatureTable)
        }
    }

    /// Feature pages are independent: they are rendered on every core; the first failure in
    /// feature order is reported.
    static func renderFeaturePages(_ build: SiteBuild) throws {
        for dictionary in build.findings.dictionaries {
            let folder = dictionary.id + "/" + SitePaths.featureFolder
            try build.makeFolder(folder, step: .renderFeaturePages)
            let features = dictionary.features
            let existing = Set(features.map(\.index))
            _ = try features.indices.parallelMap { position in
                let feature = features[position]
                let view = AtlasViewBuilder.featurePage(
                    feature, dictionary: dictionary, findings: build.findings,
                    previous: position > 0 ? features[position - 1] : nil,
                    next: position + 1 < features.count ? features[position + 1] : nil,
                    existing: existing)
                try build.render("atlas-feature", view, to: folder + "/" + SitePaths.featurePage(feature.index), step: .renderFeaturePages)
            }
        }
    }
}
