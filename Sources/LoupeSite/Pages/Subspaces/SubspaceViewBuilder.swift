import LoupeFindings

/// Builds the subspace pages' views: the index of sites, a site's partition page and each subspace's page.
enum SubspaceViewBuilder {
    /// The title of the family's pages and its crumb.
    static let title = "Subspaces"
    /// An effect at least this large is marked, and linked from circuit pages.
    static let largeEffect = 0.2

    static func indexPage(_ s: SubspaceFindings, findings: ReportFindings) -> SubspaceIndexPageView {
        let name = DisplayText.text(findings.name)
        return SubspaceIndexPageView(
            page: PageChrome(
                root: "../", title: "\(title) · \(name)", findings: findings,
                crumbs: [CrumbView(crumbHref: "../" + SitePaths.index, crumbLabel: name), CrumbView(crumbHref: nil, crumbLabel: title)]),
            similarityText: NumberText.fixed(s.similarity, 2),
            sites: s.sites.map { site in
                SubspaceSiteRowView(
                    siteHref: SitePaths.urlSegment(site.slug) + "/" + SitePaths.index,
                    siteHook: DisplayText.text(site.hook),
                    siteCount: NumberText.integer(site.subspaces.count),
                    siteSizes: site.subspaces.map { String($0.size) }.joined(separator: " + "),
                    siteGinis: site.tasks.map(giniCell))
            })
    }

    /// NDM's Gini on a task against the best baseline's.
    static func giniCell(_ task: SubspaceTaskFindings) -> GiniCellView {
        let ndm = task.bases.first { $0.basis == "ndm" }
        let best = task.bases.filter { $0.basis != "ndm" }.max { $0.gini < $1.gini }
        return GiniCellView(
            giniTask: DisplayText.text(task.task), giniNDM: ndm.map { NumberText.fixed($0.gini, 3) } ?? "–",
            giniBaseline: best.map { NumberText.fixed($0.gini, 3) } ?? "–", giniBaselineName: best.map { DisplayText.text($0.basis) } ?? "",
            ndmWins: ndm.map { ndm in best.map { ndm.gini > $0.gini } ?? true } ?? false)
    }

    static func sitePage(_ site: SubspaceSiteFindings, in s: SubspaceFindings, findings: ReportFindings) -> SubspaceSitePageView {
        let training = site.training
        let losses = training.lossCurve.map(\.loss).filter(\.isFinite)
        let chart = LineChart(
            points: training.lossCurve.map { (Double($0.step), $0.loss) },
            xRange: 0...Double(max(1, training.lossCurve.map(\.step).max() ?? 1)), yRange: 0...max(losses.max() ?? 1, 1e-9),
            rules: [], mark: nil,
            xLabel: "training step", yLabel: "mean distance to the nearest neighbour",
            title: "NDM training loss")
        let tasks = site.tasks.map { task in
            let ndmEffects = task.bases.first { $0.basis == "ndm" }?.effects ?? []
            return SubspaceTaskView(
                taskName: DisplayText.text(task.task), taskPairs: NumberText.integer(task.pairs),
                taskClean: NumberText.fixed(task.cleanMetric, 3), taskCorrupted: NumberText.fixed(task.corruptedMetric, 3),
                effectChart: SubspaceCharts.effects(ndmEffects, title: "Effect of patching each NDM subspace on \(task.task)"),
                bases: task.bases.map { basis in
                    SubspaceBasisRowView(
                        basisName: DisplayText.text(basis.basis), basisGini: NumberText.fixed(basis.gini, 3),
                        basisLargest: NumberText.fixed(basis.effects.map(abs).max() ?? 0, 3), isNDM: basis.basis == "ndm")
                })
        }
        return SubspaceSitePageView(
            page: PageChrome(root: "../../", title: "\(DisplayText.text(site.hook)) · \(title) · \(DisplayText.text(findings.name))",
                             findings: findings, crumbs: crumbs(site, findings: findings, subspace: nil)),
            hook: DisplayText.text(site.hook), widthText: NumberText.integer(site.width),
            samplesText: NumberText.integer(training.samples), stepsText: NumberText.integer(training.steps),
            blockSizeText: NumberText.integer(training.blockSize), thresholdText: NumberText.significant(training.threshold),
            endText: training.converged ? "a merging round found no pair above the threshold" : "the step limit was reached",
            pathText: DisplayText.text(site.path),
            partitionChart: SubspaceCharts.partition(site.subspaces.map(\.size)) { SitePaths.subspacePage($0) },
            tasks: tasks,
            taskNames: site.tasks.map { TaskHeaderView(headerTask: DisplayText.text($0.task)) },
            subspaces: site.subspaces.map { block in
                let shared = block.queries.lazy.compactMap(\.shared.first).first
                return SubspaceRowView(
                    subspaceHref: SitePaths.subspacePage(block.number), subspaceLabel: "s\(block.number)",
                    subspaceSize: NumberText.integer(block.size), subspaceVariance: NumberText.percent(block.variance),
                    subspaceEffects: block.effects.map { EffectCellView(effectText: NumberText.fixed($0, 3), effectLarge: abs($0) >= largeEffect) },
                    subspaceShared: shared.map { DisplayText.text($0.statement) }, subspaceSupport: shared.map { DisplayText.text($0.support) })
            },
            lossChart: chart.svg,
            rounds: training.rounds.map { round in
                MergeRoundView(
                    roundStep: NumberText.integer(round.step), roundBlocks: "\(round.sizesBefore.count) → \(round.sizesAfter.count)",
                    roundLargest: NumberText.fixed(round.largestNormalised, 3),
                    roundMerged: round.merged.isEmpty ? "none" : round.merged.map { NumberText.fixed($0, 3) }.joined(separator: ", "))
            })
    }

    static func subspacePage(_ index: Int, site: SubspaceSiteFindings, in s: SubspaceFindings, findings: ReportFindings) -> SubspacePageView {
        let block = site.subspaces[index]
        let label = "s\(block.number)"
        return SubspacePageView(
            page: PageChrome(root: "../../", title: "\(label) · \(DisplayText.text(site.hook)) · \(title) · \(DisplayText.text(findings.name))",
                             findings: findings, crumbs: crumbs(site, findings: findings, subspace: block)),
            title: "Subspace \(label)", hook: DisplayText.text(site.hook), sizeText: NumberText.integer(block.size),
            varianceText: NumberText.percent(block.variance), similarityText: NumberText.fixed(s.similarity, 2),
            effects: site.tasks.enumerated().map { taskIndex, task in
                let effects = site.subspaces.map { $0.effects[taskIndex] }
                let rank = effects.filter { abs($0) > abs(block.effects[taskIndex]) }.count + 1
                return SubspaceEffectView(
                    effectTask: DisplayText.text(task.task), effectValue: NumberText.fixed(block.effects[taskIndex], 3),
                    effectRank: "\(rank) of \(effects.count)")
            },
            queries: block.queries.enumerated().map { number, q in
                SubspaceQueryView(
                    queryNumber: NumberText.integer(number + 1), query: tokenRow(q.query),
                    insideText: "\(NumberText.integer(q.inside)) of \(NumberText.integer(q.compared)) sample activations (\(NumberText.percent(q.compared == 0 ? 0 : Double(q.inside) / Double(q.compared))))",
                    shared: q.shared.map(SharedStatementView.init),
                    neighbours: q.neighbours.map(tokenRow))
            },
            previousHref: index > 0 ? SitePaths.subspacePage(site.subspaces[index - 1].number) : nil,
            nextHref: index + 1 < site.subspaces.count ? SitePaths.subspacePage(site.subspaces[index + 1].number) : nil)
    }

    /// A token in context, the token itself marked.
    static func tokenRow(_ token: SubspaceToken) -> SubspaceTokenRowView {
        SubspaceTokenRowView(
            tokenSimilarity: NumberText.fixed(token.similarity, 3), tokenDocument: NumberText.integer(token.document),
            tokenPosition: NumberText.integer(token.position),
            tokenHTML: TokenRun.html(token.tokens.enumerated().map { i, text in
                TokenView(text, classes: i == token.index ? ["f"] : [], title: i == token.index ? "this token" : "")
            }))
    }

    /// The breadcrumbs of a page in `site`'s folder.
    static func crumbs(_ site: SubspaceSiteFindings, findings: ReportFindings, subspace: SubspaceBlock?) -> [CrumbView] {
        [
            CrumbView(crumbHref: "../../" + SitePaths.index, crumbLabel: DisplayText.text(findings.name)),
            CrumbView(crumbHref: "../" + SitePaths.index, crumbLabel: title),
            CrumbView(crumbHref: subspace == nil ? nil : SitePaths.index, crumbLabel: DisplayText.text(site.hook)),
        ] + (subspace.map { [CrumbView(crumbHref: nil, crumbLabel: "s\($0.number)")] } ?? [])
    }
}
