import LoupeCore
import LoupeFindings

/// Explains one feature and scores the explanation on held-out windows.
///
/// The explainer (offline rule fitting, or a language model) sees only `sets.explanation`; the scorers see
/// only `sets.heldOutActivating` and `sets.heldOutNonActivating`. Explanation windows from a document that
/// also has held-out windows are dropped (with a warning), so no scored document was shown to the explainer
/// even when the sets were built with another split than `DocumentSplit`.
///
/// Offline (the default): `RuleExplainer` fits a rule; detection, fuzzing and simulation are the rule's.
///
/// With a client: the model writes the sentence (`LLMExplainer`) and judges detection and fuzzing
/// (`LLMJudge`) on the same held-out windows and the same fuzzing items as the offline rule; `source` is the
/// model's name. The model is not asked to simulate activations: `simulation` is the simulation score of the
/// offline rule fitted to the same explanation windows. Any failure of the model (transport, HTTP status,
/// timeout, malformed reply, refusal, an answer that is not a sentence or yes/no) gives the offline
/// explanation and a warning; nothing is thrown. Each call makes one request for the sentence plus one per
/// held-out window and one per fuzzing item, so callers explaining many features may stop passing the client
/// after a failure.
public enum FeatureExplainer {
    /// The explanation of the feature whose examples are `sets`, with warnings for the caller; nil when no
    /// token of any window fires (activation above `settings.firingThreshold`).
    ///
    /// `display` gives a token's display string; `rng` draws the fuzzing items (the same draws whether or
    /// not a model is used).
    public static func explain(
        sets: FeatureExampleSets, display: (Int) -> String, llm: (any LLMClient)? = nil,
        settings: ExplainerSettings = ExplainerSettings(), rng: inout SeededRandom
    ) -> (explanation: Explanation?, warnings: [String]) {
        explain(sets: sets, display: display, llm: llm, settings: settings, rng: &rng, observe: nil)
    }

    /// Which part of the pipeline was handed a list of windows (for tests of the split).
    enum Stage: Equatable {
        /// The rule fitter or the language-model explainer.
        case explainer
        /// The scorers (rule or language-model judge).
        case scorer
    }

    static func explain(
        sets: FeatureExampleSets, display: (Int) -> String, llm: (any LLMClient)?,
        settings: ExplainerSettings, rng: inout SeededRandom, observe: ((Stage, [ScoredWindow]) -> Void)?
    ) -> (explanation: Explanation?, warnings: [String]) {
        let threshold = settings.firingThreshold
        let everyWindow = sets.explanation + sets.heldOutActivating + sets.heldOutNonActivating
        guard everyWindow.contains(where: { WindowCleaning.clean($0).activations.contains { $0 > threshold } }) else {
            return (nil, [])
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
        let offlineExplanation = Explanation(
            text: offline.text, source: "offline", detection: scores.detection, fuzzing: scores.fuzzing,
            simulation: scores.simulation, heldOutExamples: scores.heldOutExamples)

        guard let llm else { return (offlineExplanation, warnings) }
        do {
            observe?(.explainer, explanationWindows)
            let text = try LLMExplainer.explain(
                explanationWindows: explanationWindows, display: display, client: llm, settings: settings)
            var names: [Int: String] = [:]
            for window in heldOut.activating + heldOut.nonActivating {
                for token in window.tokens where names[token] == nil { names[token] = display(token) }
            }
            let table = names
            let judge = LLMJudge(client: llm, explanation: text, display: { table[$0] ?? "<\($0)>" })
            observe?(.scorer, heldOut.activating + heldOut.nonActivating)
            let detection = try ExplanationScorer.detection(heldOut: heldOut, judge: judge)
            let fuzzing = try ExplanationScorer.fuzzing(items: items, judge: judge)
            let explanation = Explanation(
                text: text, source: llm.model, detection: detection, fuzzing: fuzzing,
                simulation: scores.simulation, heldOutExamples: scores.heldOutExamples)
            return (explanation, warnings)
        } catch {
            warnings.append("language-model explanation failed (\(error)); using the offline explanation")
            return (offlineExplanation, warnings)
        }
    }
}
