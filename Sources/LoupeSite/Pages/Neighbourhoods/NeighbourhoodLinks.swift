import LoupeFindings

/// Where the other families' pages meet the neighbourhood pages: atlas top examples that are
/// queries, circuit heads whose output a site reads, and a query's own atlas example. Every href is
/// relative to the site root.
enum NeighbourhoodLinks {
    /// For feature `feature` of a dictionary at `hook`: each top example's rank (0-based) that a
    /// query names as its `featureExample`, mapped to that query's page (the first query when several do).
    static func queriesOfExamples(feature: Int, hook: String, findings: ReportFindings) -> [Int: String] {
        var hrefs: [Int: String] = [:]
        for site in findings.neighbourhoods?.sites ?? [] {
            for query in site.queries {
                guard let ref = query.featureExample, ref.hook == hook, ref.feature == feature, hrefs[ref.example] == nil else { continue }
                hrefs[ref.example] = SitePaths.queryHref(slug: site.slug, id: query.id)
            }
        }
        return hrefs
    }

    /// The queries of every site reading head `head` of layer `layer`: a hook of that layer's
    /// attention (`blocks.<layer>.attn.hook_*`) with that head, in the findings' order.
    static func queriesReading(layer: Int, head: Int, findings: ReportFindings) -> [(site: NeighbourhoodSiteFindings, query: NeighbourhoodQuery)] {
        let prefix = "blocks.\(layer).attn.hook_"
        return (findings.neighbourhoods?.sites ?? [])
            .filter { $0.head == head && $0.hook.hasPrefix(prefix) && $0.hook.count > prefix.count }
            .flatMap { site in site.queries.map { (site, $0) } }
    }

    /// The atlas page of the feature whose top example `ref` names, when a dictionary at its hook
    /// has that feature (the first such dictionary).
    static func examplePage(_ ref: FeatureExampleRef, findings: ReportFindings) -> String? {
        let dictionary = findings.dictionaries.first { $0.hook == ref.hook && $0.features.contains { $0.index == ref.feature } }
        return dictionary.map { SitePaths.featureHref(dictionaryID: $0.id, index: ref.feature) }
    }
}
