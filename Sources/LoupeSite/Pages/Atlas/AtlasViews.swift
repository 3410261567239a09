import LoupeFindings

// The atlas's view models: plain values the `atlas-*` templates render. Every string that came from
// findings is display-cleaned (`DisplayText`) by `AtlasViewBuilder` and HTML-escaped by the templates'
// `{{ }}`. The only markup handed to `{{{ }}}` is markup the site builds itself from escaped text:
// SVG charts (`BarChart`) and the token runs of examples (`ExampleView.exTokensHTML`, built in Swift
// because a page holds about a thousand tokens and rendering each through a Mustache section tripled
// the page time).

/// One dictionary's row in the index and its header on the table page.
struct DictionaryView: PageView {
    let dictHref, dictID, dictHook, dictKind, dictSource, dictWidth, dictInputWidth: String
    let hasQuality: Bool
    let mse, fve, l0, dead, lossRecovered, losses, qualityTokens, medianDetection, medianSimulation, explained: String
}

/// `<dict-id>/index.html` (`atlas-dictionary.mustache`).
struct DictionaryPageView: PageView {
    let page: PageChrome
    let dictionary: DictionaryView
    let featureCount: String
    let firstFeatureHref: String?
}

/// One example: its focus activation, where it comes from, its tokens as markup and, when a
/// neighbourhood query was taken from it, a link to that query (`atlas-example.mustache`).
struct ExampleView: PageView {
    let exValue, exWhere: String
    /// Plain tokens as escaped text, the others as `<span class="a5 f" title="1.234">escaped token</span>`.
    let exTokensHTML: String
    /// The page of the neighbourhood query taken at this example's focus, for top examples a query
    /// names (`NeighbourhoodQuery.featureExample`); nil otherwise.
    let exQueryHref: String?
}

/// Examples whose activation falls in one interval.
struct IntervalView: PageView {
    let intervalRange, intervalCount: String
    let intervalExamples: [ExampleView]
}

/// A token and its logit weight.
struct WeightView: PageView {
    let wTok, wValue: String
}

/// The logit-effects panel.
struct LogitView: PageView {
    let promoted, suppressed: [WeightView]
    let logitChart: String
}

/// A link to another feature; `linkHref` is nil when the feature has no page in this site.
struct LinkView: PageView {
    let linkHref: String?
    let linkLabel, linkScore: String
}

/// The explanation panel.
struct ExplanationView: PageView {
    let explText, explSource, detection, fuzzing, simulation, heldOut: String
}

/// `<dict-id>/features/<index>.html` (`atlas-feature.mustache`).
struct FeaturePageView: PageView {
    let page: PageChrome
    let featureIndex, dictionaryID, dictionaryHook, tableHref: String
    let prevHref: String?
    let prevLabel: String
    let nextHref: String?
    let nextLabel: String
    let explanation: ExplanationView?
    let stats: [FactView]
    let activationChart: String
    let logit: LogitView?
    let topExamples: [ExampleView]
    let intervals: [IntervalView]
    let neighbours, coFiring: [LinkView]
}
