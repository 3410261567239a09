import Foundation
import LoupeAnalysis
import Mustache

// View models: plain values the Mustache templates render. Every string that came from findings is
// display-cleaned here (`DisplayText`) and HTML-escaped by the templates' `{{ }}`. The only markup
// handed to `{{{ }}}` is markup the site builds itself from escaped text: SVG charts (`BarChart`), the
// token runs of examples (`ExampleView.exTokensHTML`, built here because a page holds about a thousand
// tokens and rendering each through a Mustache section tripled the page time), and cmark's rendering
// of the summary.
//
// Field names are unique across nesting levels on purpose: Mustache looks a missing (nil) name up in
// the enclosing contexts, so a token's `tokTitle` must never find a page's title.

/// A link in the breadcrumb bar; the last one has no `crumbHref`.
struct CrumbView {
    let crumbHref: String?
    let crumbLabel: String
}

/// A script loaded with `<script src>`.
struct ScriptView {
    let src: String
}

/// A label and a value.
struct FactView {
    let factLabel: String
    let factValue: String
    let factHint: String?
}

/// What every page's head and foot need.
struct PageChrome {
    /// Relative path from the page to the site root (`""`, `"../"`, `"../../"`).
    let root: String
    let pageTitle: String
    let reportName: String
    let crumbs: [CrumbView]
    let scripts: [ScriptView]
}

/// One dictionary's row in the index and its header on the table page.
struct DictionaryView {
    let dictHref: String
    let dictID: String
    let dictHook: String
    let dictKind: String
    let dictSource: String
    let dictWidth: String
    let dictInputWidth: String
    let hasQuality: Bool
    let mse: String
    let fve: String
    let l0: String
    let dead: String
    let lossRecovered: String
    let losses: String
    let medianDetection: String
    let medianSimulation: String
    let explained: String
}

/// `index.html`.
struct IndexPageView {
    let page: PageChrome
    let reportTitle: String
    let summaryHTML: String
    let summaryHref: String
    let modelFacts: [FactView]
    let corpusFacts: [FactView]
    let dictionaries: [DictionaryView]
    let hasDictionaries: Bool
}

/// `<dict-id>/index.html`.
struct DictionaryPageView {
    let page: PageChrome
    let dictionary: DictionaryView
    let featureCount: String
    let firstFeatureHref: String?
}

/// One token of an example. Tokens with no activation that are not the focus are written as plain
/// text (no element), which keeps a page of 70 examples small.
struct TokenView {
    let tok: String
    /// Neither shaded, nor titled, nor the focus.
    let plain: Bool
    /// `a1`…`a9` by activation / max (empty at zero), plus `f` on the focus token.
    let tokClass: String
    /// The exact activation, shown on hover (empty at zero).
    let tokTitle: String
}

/// One example: its focus activation, where it comes from, and its tokens.
struct ExampleView {
    let exValue: String
    let exWhere: String
    let tokens: [TokenView]
    /// The tokens as markup: plain tokens as escaped text, the others as
    /// `<span class="a5 f" title="1.234">escaped token</span>`.
    let exTokensHTML: String

    init(exValue: String, exWhere: String, tokens: [TokenView]) {
        self.exValue = exValue
        self.exWhere = exWhere
        self.tokens = tokens
        var html = ""
        html.reserveCapacity(tokens.count * 24)
        for token in tokens {
            if token.plain {
                html += DisplayText.escapeHTML(token.tok)
            } else {
                html += "<span"
                if !token.tokClass.isEmpty { html += " class=\"" + DisplayText.escapeHTML(token.tokClass) + "\"" }
                if !token.tokTitle.isEmpty { html += " title=\"" + DisplayText.escapeHTML(token.tokTitle) + "\"" }
                html += ">" + DisplayText.escapeHTML(token.tok) + "</span>"
            }
        }
        self.exTokensHTML = html
    }
}

/// Examples whose activation falls in one interval.
struct IntervalView {
    let intervalRange: String
    let intervalCount: String
    let intervalExamples: [ExampleView]
}

/// A token and its logit weight.
struct WeightView {
    let wTok: String
    let wValue: String
}

/// The logit-effects panel.
struct LogitView {
    let promoted: [WeightView]
    let suppressed: [WeightView]
    let logitChart: String
}

/// A link to another feature; `linkHref` is nil when the feature has no page in this site.
struct LinkView {
    let linkHref: String?
    let linkLabel: String
    let linkScore: String
}

/// The explanation panel.
struct ExplanationView {
    let explText: String
    let explSource: String
    let detection: String
    let fuzzing: String
    let simulation: String
    let heldOut: String
}

/// `<dict-id>/features/<index>.html`.
struct FeaturePageView {
    let page: PageChrome
    let featureIndex: String
    let dictionaryID: String
    let dictionaryHook: String
    let tableHref: String
    let prevHref: String?
    let prevLabel: String
    let nextHref: String?
    let nextLabel: String
    let explanation: ExplanationView?
    let stats: [FactView]
    let activationChart: String
    let logit: LogitView?
    let topExamples: [ExampleView]
    let hasTopExamples: Bool
    let intervals: [IntervalView]
    let hasIntervals: Bool
    let neighbours: [LinkView]
    let hasNeighbours: Bool
    let coFiring: [LinkView]
    let hasCoFiring: Bool
}

// MARK: - Mustache look-ups
//
// Each view model answers Mustache's look-ups by name directly; the default look-up reflects over
// every field for every tag, which dominated page rendering time.

extension CrumbView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "crumbHref": return crumbHref
        case "crumbLabel": return crumbLabel
        default: return nil
        }
    }
}

extension ScriptView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "src": return src
        default: return nil
        }
    }
}

extension FactView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "factLabel": return factLabel
        case "factValue": return factValue
        case "factHint": return factHint
        default: return nil
        }
    }
}

extension PageChrome: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "root": return root
        case "pageTitle": return pageTitle
        case "reportName": return reportName
        case "crumbs": return crumbs
        case "scripts": return scripts
        default: return nil
        }
    }
}

extension DictionaryView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "dictHref": return dictHref
        case "dictID": return dictID
        case "dictHook": return dictHook
        case "dictKind": return dictKind
        case "dictSource": return dictSource
        case "dictWidth": return dictWidth
        case "dictInputWidth": return dictInputWidth
        case "hasQuality": return hasQuality
        case "mse": return mse
        case "fve": return fve
        case "l0": return l0
        case "dead": return dead
        case "lossRecovered": return lossRecovered
        case "losses": return losses
        case "medianDetection": return medianDetection
        case "medianSimulation": return medianSimulation
        case "explained": return explained
        default: return nil
        }
    }
}

extension IndexPageView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "page": return page
        case "reportTitle": return reportTitle
        case "summaryHTML": return summaryHTML
        case "summaryHref": return summaryHref
        case "modelFacts": return modelFacts
        case "corpusFacts": return corpusFacts
        case "dictionaries": return dictionaries
        case "hasDictionaries": return hasDictionaries
        default: return nil
        }
    }
}

extension DictionaryPageView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "page": return page
        case "dictionary": return dictionary
        case "featureCount": return featureCount
        case "firstFeatureHref": return firstFeatureHref
        default: return nil
        }
    }
}

extension TokenView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "tok": return tok
        case "plain": return plain
        case "tokClass": return tokClass
        case "tokTitle": return tokTitle
        default: return nil
        }
    }
}

extension ExampleView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "exValue": return exValue
        case "exWhere": return exWhere
        case "tokens": return tokens
        case "exTokensHTML": return exTokensHTML
        default: return nil
        }
    }
}

extension IntervalView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "intervalRange": return intervalRange
        case "intervalCount": return intervalCount
        case "intervalExamples": return intervalExamples
        default: return nil
        }
    }
}

extension WeightView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "wTok": return wTok
        case "wValue": return wValue
        default: return nil
        }
    }
}

extension LogitView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "promoted": return promoted
        case "suppressed": return suppressed
        case "logitChart": return logitChart
        default: return nil
        }
    }
}

extension LinkView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "linkHref": return linkHref
        case "linkLabel": return linkLabel
        case "linkScore": return linkScore
        default: return nil
        }
    }
}

extension ExplanationView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "explText": return explText
        case "explSource": return explSource
        case "detection": return detection
        case "fuzzing": return fuzzing
        case "simulation": return simulation
        case "heldOut": return heldOut
        default: return nil
        }
    }
}

extension FeaturePageView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "page": return page
        case "featureIndex": return featureIndex
        case "dictionaryID": return dictionaryID
        case "dictionaryHook": return dictionaryHook
        case "tableHref": return tableHref
        case "prevHref": return prevHref
        case "prevLabel": return prevLabel
        case "nextHref": return nextHref
        case "nextLabel": return nextLabel
        case "explanation": return explanation
        case "stats": return stats
        case "activationChart": return activationChart
        case "logit": return logit
        case "topExamples": return topExamples
        case "hasTopExamples": return hasTopExamples
        case "intervals": return intervals
        case "hasIntervals": return hasIntervals
        case "neighbours": return neighbours
        case "hasNeighbours": return hasNeighbours
        case "coFiring": return coFiring
        case "hasCoFiring": return hasCoFiring
        default: return nil
        }
    }
}

/// Builds view models from findings.
enum ViewModelBuilder {
    static func chrome(root: String, title: String, findings: ReportFindings, crumbs: [CrumbView], scripts: [ScriptView] = []) -> PageChrome {
        PageChrome(root: root, pageTitle: title, reportName: DisplayText.text(findings.name), crumbs: crumbs, scripts: scripts)
    }

    static func index(findings: ReportFindings, summaryHTML: String) -> IndexPageView {
        let name = DisplayText.text(findings.name)
        let model = findings.model
        let corpus = findings.corpus
        let modelFacts = [
            FactView(factLabel: "Model", factValue: DisplayText.text(model.path), factHint: nil),
            FactView(factLabel: "Layers", factValue: NumberText.integer(model.layers), factHint: nil),
            FactView(factLabel: "Width", factValue: NumberText.integer(model.width), factHint: "d_model"),
            FactView(factLabel: "Heads", factValue: NumberText.integer(model.heads), factHint: nil),
            FactView(factLabel: "Vocabulary", factValue: NumberText.integer(model.vocabularySize), factHint: "tokens"),
            FactView(factLabel: "Context", factValue: NumberText.integer(model.contextLength), factHint: "positions"),
        ]
        let files = corpus.files.map(DisplayText.text).joined(separator: ", ")
        let corpusFacts = [
            FactView(factLabel: "Files", factValue: files.isEmpty ? "none listed" : files, factHint: nil),
            FactView(factLabel: "Documents", factValue: NumberText.integer(corpus.documents), factHint: nil),
            FactView(factLabel: "Tokens", factValue: NumberText.integer(corpus.tokens), factHint: nil),
            FactView(factLabel: "Window", factValue: NumberText.integer(corpus.contextLength), factHint: "tokens per context"),
        ]
        let dictionaries = findings.dictionaries.map { dictionary($0, href: SitePaths.urlSegment($0.id) + "/" + SitePaths.index) }
        return IndexPageView(
            page: chrome(root: "", title: "\(name) · Loupe", findings: findings,
                         crumbs: [CrumbView(crumbHref: nil, crumbLabel: name)]),
            reportTitle: name,
            summaryHTML: summaryHTML,
            summaryHref: SitePaths.summary,
            modelFacts: modelFacts,
            corpusFacts: corpusFacts,
            dictionaries: dictionaries,
            hasDictionaries: !dictionaries.isEmpty
        )
    }

    static func dictionary(_ d: DictionaryFindings, href: String) -> DictionaryView {
        let q = d.quality
        let explained = d.features.filter { $0.explanation != nil }.count
        return DictionaryView(
            dictHref: href,
            dictID: DisplayText.text(d.id),
            dictHook: DisplayText.text(d.hook),
            dictKind: DisplayText.text(d.kind),
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
            medianDetection: NumberText.score(d.medianDetection),
            medianSimulation: NumberText.score(d.medianSimulation),
            explained: "\(NumberText.integer(explained)) of \(NumberText.integer(d.features.count))"
        )
    }

    static func dictionaryPage(_ d: DictionaryFindings, findings: ReportFindings) -> DictionaryPageView {
        let id = DisplayText.text(d.id)
        let name = DisplayText.text(findings.name)
        return DictionaryPageView(
            page: chrome(
                root: "../", title: "\(id) · \(name)", findings: findings,
                crumbs: [CrumbView(crumbHref: "../" + SitePaths.index, crumbLabel: name), CrumbView(crumbHref: nil, crumbLabel: id)],
                scripts: [ScriptView(src: SitePaths.featureData), ScriptView(src: "../" + SitePaths.assets + "/table.js")]
            ),
            dictionary: dictionary(d, href: SitePaths.index),
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
                explSource: DisplayText.text($0.source),
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

        let top = f.topExamples.map { example($0, scale: scale) }
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
            page: chrome(
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
            hasTopExamples: !top.isEmpty,
            intervals: intervals,
            hasIntervals: !intervals.isEmpty,
            neighbours: neighbours,
            hasNeighbours: !neighbours.isEmpty,
            coFiring: coFiring,
            hasCoFiring: !coFiring.isEmpty
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
        guard activation > 0, activation.isFinite, scale > 0 else { return nil }
        let level = (Double(activation) / Double(scale) * 9).rounded(.up)
        return Int(min(9, max(1, level)))
    }

    static func example(_ e: ActivationExample, scale: Float) -> ExampleView {
        var tokens: [TokenView] = []
        tokens.reserveCapacity(e.tokens.count)
        for (i, token) in e.tokens.enumerated() {
            let activation: Float = i < e.activations.count ? e.activations[i] : 0
            var classes: [String] = []
            if let level = shade(activation, scale: scale) { classes.append("a\(level)") }
            if i == e.focus { classes.append("f") }
            let title: String? = activation == 0 ? nil : NumberText.significant(Double(activation), digits: 4)
            tokens.append(TokenView(
                tok: DisplayText.token(token), plain: classes.isEmpty && title == nil,
                tokClass: classes.joined(separator: " "), tokTitle: title ?? ""
            ))
        }
        let focusActivation: Float = e.activations.indices.contains(e.focus) ? e.activations[e.focus] : 0
        return ExampleView(
            exValue: NumberText.significant(Double(focusActivation)),
            exWhere: "doc \(e.document) · pos \(e.position)",
            tokens: tokens
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
