import LoupeFindings

/// Builds the atlas's view models from findings.
enum AtlasViewBuilder {
    /// The feature table page of dictionary `d`.
    static func dictionaryPage(_ d: DictionaryFindings, findings: ReportFindings) -> DictionaryPageView {
        let id = DisplayText.text(d.id)
        let name = DisplayText.text(findings.name)
        return DictionaryPageView(
            page: PageChrome(
                root: "../", title: "\(id) · \(name)", findings: findings,
                crumbs: [CrumbView(crumbHref: "../" + SitePaths.index, crumbLabel: name), CrumbView(crumbHref: nil, crumbLabel: id)],
                scripts: [ScriptView(src: SitePaths.featureData), ScriptView(src: "../" + SitePaths.assets + "/table.js")]),
            dictionary: DictionaryView(d, href: SitePaths.index),
            featureCount: NumberText.integer(d.features.count),
            firstFeatureHref: d.features.first.map { SitePaths.featureFolder + "/" + SitePaths.featurePage($0.index) }
        )
    }

    /// The feature page; `previous`/`next` are the neighbouring features in the dictionary's order and
    /// `existing` the indices that have pages (links to others are shown as plain text).
    static func featurePage(
        _ f: FeatureFindings, dictionary d: DictionaryFindings, findings: ReportFindings,
        previous: FeatureFindings?, next: FeatureFindings?, existing: Set<Int>
    ) -> FeaturePageView {
        let id = DisplayText.text(d.id)
        let name = DisplayText.text(findings.name)
        let scale = shadingScale(for: f)

        let explanation = f.explanation.map {
            ExplanationView(
                explText: DisplayText.text($0.text),
                explSource: DisplayText.text($0.fallback.map { "offline (the language model failed: \($0))" } ?? $0.source),
                detection: NumberText.score($0.detection),
                fuzzing: NumberText.score($0.fuzzing),
                simulation: NumberText.score($0.simulation),
                heldOut: NumberText.integer($0.heldOutExamples)
            )
        }

        var densityHint: String? = nil
        if f.density > 0, f.density.isFinite {
            let oneIn = 1 / f.density
            densityHint = oneIn < 1e12 ? "1 in \(NumberText.integer(Int(oneIn.rounded()))) tokens" : nil
        }
        let stats = [
            FactView(factLabel: "Density", factValue: NumberText.percent(f.density), factHint: densityHint),
            FactView(factLabel: "Max activation", factValue: NumberText.significant(Double(f.maxActivation), digits: 4), factHint: nil),
            FactView(factLabel: "Mean activation", factValue: NumberText.significant(Double(f.meanActivation), digits: 4), factHint: "over non-zero"),
        ]

        let activationChart = BarChart(
            histogram: f.histogram, xLabel: "activation (non-zero)", title: "Histogram of non-zero activations"
        ).svg

        let logit = f.logitEffects.map { effects in
            LogitView(
                promoted: effects.top.map { WeightView(wTok: DisplayText.token($0.token), wValue: signed($0.weight)) },
                suppressed: effects.bottom.map { WeightView(wTok: DisplayText.token($0.token), wValue: signed($0.weight)) },
                logitChart: BarChart(
                    histogram: effects.histogram, xLabel: "logit effect over the vocabulary",
                    title: "Histogram of logit effects", signed: true
                ).svg
            )
        }

        let queries = NeighbourhoodLinks.queriesOfExamples(feature: f.index, hook: d.hook, findings: findings)
        let top = f.topExamples.enumerated().map { rank, e in example(e, scale: scale, queryHref: queries[rank].map { "../../" + $0 }) }
        let intervals = f.intervals.map { group in
            IntervalView(
                intervalRange: "(\(NumberText.significant(Double(group.lower))), \(NumberText.significant(Double(group.upper)))]",
                intervalCount: NumberText.integer(group.examples.count),
                intervalExamples: group.examples.map { example($0, scale: scale) }
            )
        }
        let neighbours = f.neighbours.map { link($0, existing: existing, score: "cos \(NumberText.fixed(Double($0.score), 3))") }
        let coFiring = f.coFiring.map { link($0, existing: existing, score: NumberText.percent(Double($0.score))) }

        return FeaturePageView(
            page: PageChrome(
                root: "../../", title: "Feature \(f.index) · \(id) · \(name)", findings: findings,
                crumbs: [
                    CrumbView(crumbHref: "../../" + SitePaths.index, crumbLabel: name),
                    CrumbView(crumbHref: "../" + SitePaths.index, crumbLabel: id),
                    CrumbView(crumbHref: nil, crumbLabel: "Feature \(f.index)"),
                ]
            ),
            featureIndex: String(f.index),
            dictionaryID: id,
            dictionaryHook: DisplayText.text(d.hook),
            tableHref: "../" + SitePaths.index,
            prevHref: previous.map { SitePaths.featurePage($0.index) },
            prevLabel: previous.map { "Feature \($0.index)" } ?? "",
            nextHref: next.map { SitePaths.featurePage($0.index) },
            nextLabel: next.map { "Feature \($0.index)" } ?? "",
            explanation: explanation,
            stats: stats,
            activationChart: activationChart,
            logit: logit,
            topExamples: top,
            intervals: intervals,
            neighbours: neighbours,
            coFiring: coFiring
        )
    }

    /// The activation that maps to the darkest shade: the feature's maximum, or the largest activation
    /// among its examples if the maximum is missing.
    static func shadingScale(for f: FeatureFindings) -> Float {
        if f.maxActivation.isFinite, f.maxActivation > 0 { return f.maxActivation }
        let all = f.topExamples.flatMap(\.activations) + f.intervals.flatMap { $0.examples.flatMap(\.activations) }
        let largest = all.filter(\.isFinite).max() ?? 0
        return largest > 0 ? largest : 1
    }

    /// Shade level 1…9 for a positive activation, `nil` for zero, negative or not-a-number.
    static func shade(_ activation: Float, scale: Float) -> Int? {
        TokenRun.level(Double(activation), scale: Double(scale))
    }

    /// The tokens of `e`, shaded against `scale`; tolerates fewer activations than tokens and a
    /// focus outside the window.
    static func tokens(_ e: ActivationExample, scale: Float) -> [TokenView] {
        var tokens: [TokenView] = []
        tokens.reserveCapacity(e.tokens.count)
        for (i, token) in e.tokens.enumerated() {
            let activation: Float = i < e.activations.count ? e.activations[i] : 0
            var classes: [String] = []
            if let level = shade(activation, scale: scale) { classes.append("a\(level)") }
            if i == e.focus { classes.append("f") }
            let title = activation == 0 ? "" : NumberText.significant(Double(activation), digits: 4)
            tokens.append(TokenView(token, classes: classes, title: title))
        }
        return tokens
    }

    /// An example's row; `queryHref` links the decoded neighbourhood of its focus position, when a
    /// neighbourhood query was taken from it.
    static func example(_ e: ActivationExample, scale: Float, queryHref: String? = nil) -> ExampleView {
        let focusActivation: Float = e.activations.indices.contains(e.focus) ? e.activations[e.focus] : 0
        return ExampleView(
            exValue: NumberText.significant(Double(focusActivation)),
            exWhere: "doc \(e.document) · pos \(e.position)",
            exTokensHTML: TokenRun.html(tokens(e, scale: scale)),
            exQueryHref: queryHref
        )
    }

    static func link(_ l: FeatureLink, existing: Set<Int>, score: String) -> LinkView {
        LinkView(
            linkHref: existing.contains(l.index) ? SitePaths.featurePage(l.index) : nil,
            linkLabel: "Feature \(l.index)",
            linkScore: score
        )
    }

    static func signed(_ value: Float) -> String {
        let text = NumberText.significant(Double(value))
        return value > 0 ? "+" + text : text.replacingOccurrences(of: "-", with: "−")
    }
}

extension DictionaryView {
    /// The row of dictionary `d`, linking to `href`.
    init(_ d: DictionaryFindings, href: String) {
        let q = d.quality
        let explained = d.features.filter { $0.explanation != nil }.count
        self.init(
            dictHref: href,
            dictID: DisplayText.text(d.id),
            dictHook: DisplayText.text(d.hook),
            dictKind: DisplayText.text(d.kind.rawValue),
            dictSource: DisplayText.text(d.source),
            dictWidth: NumberText.integer(d.width),
            dictInputWidth: NumberText.integer(d.inputWidth),
            hasQuality: q != nil,
            mse: q.map { NumberText.significant($0.meanSquaredError) } ?? "–",
            fve: q.map { NumberText.fixed($0.fractionOfVarianceExplained, 3) } ?? "–",
            l0: q.map { NumberText.significant($0.meanL0) } ?? "–",
            dead: q.map { NumberText.percent($0.deadFraction) } ?? "–",
            lossRecovered: q.map { NumberText.fixed($0.lossRecovered, 3) } ?? "–",
            losses: q.map {
                "clean \(NumberText.fixed($0.cleanLoss, 3)) · spliced \(NumberText.fixed($0.reconstructedLoss, 3)) · zero-ablated \(NumberText.fixed($0.zeroAblatedLoss, 3))"
            } ?? "",
            qualityTokens: q.map { NumberText.integer($0.tokens) } ?? "–",
            medianDetection: NumberText.score(d.medianDetection),
            medianSimulation: NumberText.score(d.medianSimulation),
            explained: "\(NumberText.integer(explained)) of \(NumberText.integer(d.features.count))"
        )
    }
}
