import LoupeFindings

/// Builds the page of one head or MLP of a circuit task (`circuits/<slug>/<node>.html`).
enum CircuitNodeViewBuilder {
    /// The page of `ref` in the task of `facts`; `all` holds every task of the report, in order,
    /// for the table of the node's scores across tasks.
    static func nodePage(_ ref: CircuitNodeRef, facts: CircuitTaskFacts, all: [CircuitTaskFacts], findings: ReportFindings) -> CircuitNodePageView {
        let task = facts.task
        let id = ref.nodeID
        let name = DisplayText.text(findings.name)
        let taskName = DisplayText.text(task.task)
        let head = task.heads.first { $0.id == id }

        let patterns = (head?.patterns ?? []).enumerated().map { i, weights -> PatternView in
            let tokens = i < task.prompts.count ? task.prompts[i].clean : []
            return PatternView(
                patternSVG: AttentionHeatmap(tokens: tokens, weights: weights, title: "Attention of \(id) on clean prompt \(i + 1)").svg,
                patternCaption: "Clean prompt \(i + 1): rows are query positions, columns key positions; darker is more attention (hover a cell for its weight).")
        }

        let columns = unique(all.flatMap { $0.task.methods.map(\.method) })
        let crossRows = all.map { other -> CrossRowView in
            let otherLabel = DisplayText.text(other.task.task)
            let folder = other.task.slug == task.slug ? "" : "../" + SitePaths.urlSegment(other.task.slug) + "/"
            let href = folder + (other.nodeHref(id) ?? SitePaths.index)
            let cells = columns.map { column -> ScoreCellView in
                guard let method = other.task.methods.first(where: { $0.method == column }) else { return ScoreCellView(cellText: "—", cellIn: false) }
                return CircuitTaskViewBuilder.cell(method, node: id)
            }
            return CrossRowView(crossTask: NodeLinkView(nodeHref: href, nodeLabel: otherLabel), crossCells: cells)
        }

        let readers = ref.kind == .head ? NeighbourhoodLinks.queriesReading(layer: ref.layer, head: ref.head ?? 0, findings: findings) : []
        let neighbourhoods = readers.map { site, query in
            QueryLinkView(
                queryLinkHref: "../../" + SitePaths.queryHref(slug: site.slug, id: query.id),
                queryLinkLabel: NeighbourhoodText.site(site) + " · query " + DisplayText.text(query.id),
                queryLinkNote: DisplayText.text(query.origin))
        }

        let position = facts.nodes.firstIndex(of: ref)
        let neighbour = { (offset: Int) -> NodeLinkView? in
            guard let position, facts.nodes.indices.contains(position + offset) else { return nil }
            return CircuitTaskViewBuilder.link(facts.nodes[position + offset].nodeID, facts: facts)
        }

        return CircuitNodePageView(
            page: PageChrome(
                root: "../../", title: "\(id) · \(taskName) · \(name)", findings: findings,
                crumbs: [
                    CrumbView(crumbHref: "../../" + SitePaths.index, crumbLabel: name),
                    CrumbView(crumbHref: SitePaths.index, crumbLabel: "Circuit: \(taskName)"),
                    CrumbView(crumbHref: nil, crumbLabel: id),
                ]),
            nodeID: id,
            nodeKind: ref.kind == .head ? "attention head \(ref.head ?? 0) of layer \(ref.layer)" : "MLP of layer \(ref.layer)",
            taskLabel: taskName,
            taskHref: SitePaths.index,
            context: facts.context,
            isHead: ref.kind == .head,
            patterns: patterns,
            taskScores: task.methods.map { scoreRow($0, node: id) },
            crossColumns: columns.map { ColumnView(columnName: DisplayText.text($0)) },
            crossRows: crossRows,
            features: (head?.features ?? []).map { feature($0, findings: findings) },
            hasNeighbourhoodSection: findings.neighbourhoods != nil,
            neighbourhoods: neighbourhoods,
            prevNode: neighbour(-1),
            nextNode: neighbour(1)
        )
    }

    /// The node's score under `method`, its rank by |score| among the method's nodes, and whether it is in the circuit.
    static func scoreRow(_ method: CircuitMethodFindings, node id: String) -> NodeScoreView {
        let score = method.nodes.first { $0.id == id }?.score
        var rank = "—"
        if let score, score.isFinite {
            let above = method.nodes.filter { $0.score.isFinite && abs($0.score) > abs(score) }.count
            rank = "\(above + 1) of \(method.nodes.count)"
        }
        return NodeScoreView(
            scoreMethod: DisplayText.text(method.method), scoreValue: score.map(CircuitTaskFacts.score) ?? "—",
            scoreRank: rank, scoreIn: method.circuit.contains(id))
    }

    /// A feature the head writes to, linked to its atlas page when the report's dictionary has it.
    static func feature(_ f: CircuitHeadFeature, findings: ReportFindings) -> HeadFeatureView {
        let dictionary = findings.dictionaries.first { $0.id == f.dictionary }
        let exists = dictionary?.features.contains { $0.index == f.feature } ?? false
        return HeadFeatureView(
            featureHref: exists ? "../../" + SitePaths.featureHref(dictionaryID: f.dictionary, index: f.feature) : nil,
            featureLabel: "Feature \(f.feature) of \(DisplayText.text(f.dictionary))",
            featureWeight: CircuitTaskFacts.score(f.weight))
    }

    /// `names` without repeats, in first-seen order.
    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
