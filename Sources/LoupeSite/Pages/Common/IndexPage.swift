import LoupeFindings

/// `index.html`: the report's summary, model and corpus, and a row per page family entry
/// (`index.mustache`).
struct IndexPageView: PageView {
    let page: PageChrome
    let reportTitle, summaryHTML, summaryHref: String
    let modelFacts, corpusFacts: [FactView]
    let dictionaries: [DictionaryView]
    let circuits: [CircuitIndexRowView]
    /// The neighbourhoods' index and a line about it, when the report has decoded neighbourhoods.
    let neighbourhoodsHref, neighbourhoodsText: String?
    /// The subspaces' index and a line about it, when the report has subspaces.
    let subspacesHref, subspacesText: String?

    /// The index of `findings` under the report's `title`, with the summary already rendered to HTML by cmark.
    init(findings: ReportFindings, title: String, summaryHTML: String) {
        let name = DisplayText.text(findings.name)
        let model = findings.model
        let corpus = findings.corpus
        modelFacts = [
            FactView(factLabel: "Model", factValue: DisplayText.text(model.path), factHint: nil),
            FactView(factLabel: "Layers", factValue: NumberText.integer(model.layers), factHint: nil),
            FactView(factLabel: "Width", factValue: NumberText.integer(model.width), factHint: "d_model"),
            FactView(factLabel: "Heads", factValue: NumberText.integer(model.heads), factHint: nil),
            FactView(factLabel: "Vocabulary", factValue: NumberText.integer(model.vocabularySize), factHint: "tokens"),
            FactView(factLabel: "Context", factValue: NumberText.integer(model.contextLength), factHint: "positions"),
        ]
        let files = corpus.files.map(DisplayText.text).joined(separator: ", ")
        corpusFacts = [
            FactView(factLabel: "Files", factValue: files.isEmpty ? "none listed" : files, factHint: nil),
            FactView(factLabel: "Documents", factValue: NumberText.integer(corpus.documents), factHint: nil),
            FactView(factLabel: "Tokens", factValue: NumberText.integer(corpus.tokens), factHint: nil),
            FactView(factLabel: "Window", factValue: NumberText.integer(corpus.contextLength), factHint: "tokens per context"),
        ]
        dictionaries = findings.dictionaries.map { DictionaryView($0, href: SitePaths.urlSegment($0.id) + "/" + SitePaths.index) }
        circuits = (findings.circuits?.tasks ?? []).map { CircuitIndexRowView(CircuitTaskFacts($0)) }
        neighbourhoodsHref = findings.neighbourhoods.map { _ in SitePaths.neighbourhoods + "/" + SitePaths.index }
        neighbourhoodsText = findings.neighbourhoods.map { n in
            let queries = n.sites.reduce(0) { $0 + $1.queries.count }
            return "\(NumberText.integer(queries)) \(queries == 1 ? "query" : "queries") at \(NumberText.integer(n.sites.count)) "
                + "\(n.sites.count == 1 ? "site" : "sites") · \(NeighbourhoodText.context(n))"
        }
        subspacesHref = findings.subspaces.map { _ in SitePaths.subspaces + "/" + SitePaths.index }
        subspacesText = findings.subspaces.map { s in
            let count = s.sites.reduce(0) { $0 + $1.subspaces.count }
            return "\(NumberText.integer(count)) subspaces at \(NumberText.integer(s.sites.count)) \(s.sites.count == 1 ? "site" : "sites")"
        }
        reportTitle = DisplayText.text(title)
        page = PageChrome(root: "", title: "\(reportTitle) · Loupe", findings: findings, crumbs: [CrumbView(crumbHref: nil, crumbLabel: name)])
        self.summaryHTML = summaryHTML
        summaryHref = SitePaths.summary
    }
}
