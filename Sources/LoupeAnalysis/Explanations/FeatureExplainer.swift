import LoupeCore
import LoupeFindings

/// An explanation and what producing it involved.
public struct FeatureExplanationResult: Sendable {
    /// The explanation; nil when no token of any window fires.
    public var explanation: Explanation?
    /// Things the caller should show (dropped windows, a fallback and why).
    public var warnings: [String]
    /// What the language model's requests cost (recorded costs for cached answers; zero offline).
    public var cost: LLMCost
}

/// Explains one feature and scores the explanation on held-out windows.
///
/// The explainer (offline rule fitting, or a language model) sees only `sets.explanation`; the scorers see
/// only `sets.heldOutActivating` and `sets.heldOutNonActivating`. Explanation windows from a document that
/// also has held-out windows are dropped (with a warning), so no scored document was shown to the explainer
/// even when the sets were built with another split than `DocumentSplit`.
///
/// Offline (the default): `RuleExplainer` fits a rule; detection, fuzzing and simulation are the rule's, over
/// every held-out window.
///
/// With a session: the model writes the sentence (`LLMExplainer`, one request) and scores it on windows
/// drawn from the held-out ones (`LLMScorer`: detection, fuzzing and simulation, several examples per
/// request); `source` is the model's name. When a request still fails after the session's retries, the
/// offline explanation is given with `fallback` set to the failure's kind and a warning; nothing is thrown.
/// The offline draws from `rng` are the same whether or not a model is used.
public enum FeatureExplainer {
    /// The explanation of the feature whose examples are `sets`; nil explanation when no token of any
    /// window fires (activation above `settings.firingThreshold`).
    ///
    /// `display` gives a token's display string; `rng` draws the fuzzing items.
    public static func explain(
        sets: FeatureExampleSets, display: (Int) -> String, session: LLMSession? = nil,
        settings: ExplainerSettings = ExplainerSettings(), rng: inout SeededRandom
    ) -> FeatureExplanationResult {
        explain(sets: sets, display: display, session: session, settings: settings, rng: &rng, observe: nil)
    }

    /// Which part of the pipeline was handed a list of windows (for tests of the split).
    enum Stage: Equatable {
        /// The rule fitter or the language-model explainer.
        case explainer
        /// The scorers (rule or language-model judge).
        case scorer
    }

    static func explain(
        sets: FeatureExampleSets, display: (Int) -> String, session: LLMSession?,
        settings: ExplainerSettings, rng: inout SeededRandom, observe: ((Stage, [ScoredWindow]) -> Void)?
    ) -> FeatureExplanationResult {
        let threshold = settings.firingThreshold
        let everyWindow = sets.explanation + sets.heldOutActivating + sets.heldOutNonActivating
        guard everyWindow.contains(where: { WindowCleaning.clean($0).activations.contains { $0 > threshold } }) else {
            return FeatureExplanationResult(explanation: nil, warnings: [], cost: LLMCost())
        }
        var warnings: [String] = []
        let heldOut = HeldOutWindows(sets: sets)
        let heldOutDocuments = Set((heldOut.activating + heldOut.nonActivating).map(\.document))
        let explanationWindows = sets.explanation.filter { !heldOutDocuments.contains($0.document) }
        let dropped = sets.explanation.count - explanationWindows.count
        if dropped > 0 {
            warnings.append("\(dropped) explanation window(s) came from held-out documents and were not shown to the explainer")
        }
        if heldOut.count == 0 {
            warnings.append("no held-out windows: scores are at chance by definition")
        }

        observe?(.explainer, explanationWindows)
        let offline = RuleExplainer.explain(explanationWindows: explanationWindows, display: display, settings: settings)
            ?? OfflineExplanation(
                rule: .tokenSet([]), text: "No simple token rule found; no token fires in the explanation examples.",
                quality: 0, isSimpleRule: false)
        if offline.rule == .tokenSet([]) {
            warnings.append("no token fires in the explanation windows; the explanation predicts nothing")
        }
        let items = ExplanationScorer.fuzzingItems(
            heldOut: heldOut, threshold: threshold, maxPerWindow: settings.maxHighlightsPerWindow, rng: &rng)
        observe?(.scorer, heldOut.activating + heldOut.nonActivating)
        let scores = ExplanationScorer.score(predictor: offline.rule, heldOut: heldOut, items: items)
        var offlineExplanation = Explanation(
            text: offline.text, source: "offline", detection: scores.detection, fuzzing: scores.fuzzing,
            simulation: scores.simulation, heldOutExamples: scores.heldOutExamples)

        guard let session else { return FeatureExplanationResult(explanation: offlineExplanation, warnings: warnings, cost: LLMCost()) }
        // The model's draws come from their own generator, so the offline draws above stay the same.
        var draws: SeededRandom = {
            var copy = rng
            return SeededRandom(seed: copy.next() ^ 0x4C4C_4D5F_5343_4F52)
        }()
        var cost = LLMCost()
        do {
            observe?(.explainer, explanationWindows)
            let (text, explained) = try session.complete(
                LLMExplainer.request(explanationWindows: explanationWindows, display: display, settings: settings),
                parse: LLMExplainer.sentence)
            cost += explained
            let selection = LLMScorer.select(heldOut: heldOut, settings: settings, rng: &draws)
            var names: [Int: String] = [:]
            for window in selection.all {
                for token in window.tokens where names[token] == nil { names[token] = display(token) }
            }
            observe?(.scorer, selection.all)
            let scorer = LLMScorer(session: session, explanation: text, display: { names[$0] ?? "<\($0)>" }, settings: settings)
            let (judged, scored) = try scorer.score(selection, rng: &draws)
            cost += scored
            let explanation = Explanation(
                text: text, source: session.model, detection: judged.detection, fuzzing: judged.fuzzing,
                simulation: judged.simulation, heldOutExamples: judged.heldOutExamples)
            return FeatureExplanationResult(explanation: explanation, warnings: warnings, cost: cost)
        } catch {
            let failure = error as? LLMCallFailure ?? LLMCallFailure(error: .transport("\(error)"), cost: LLMCost())
            cost += failure.cost
            offlineExplanation.fallback = failure.error.category
            warnings.append("language-model explanation failed (\(failure.error)); using the offline explanation")
            return FeatureExplanationResult(explanation: offlineExplanation, warnings: warnings, cost: cost)
        }
    }
}
