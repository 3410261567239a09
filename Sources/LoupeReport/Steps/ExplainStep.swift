import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings

/// The `explain(hook)` step: every feature that fires on at least `min_firing_tokens` corpus tokens
/// is explained on explanation documents and scored on held-out ones (rarer features give too few
/// examples to do both). Each feature draws from its own generator, seeded from the report's seed and
/// the feature's index, so the result does not depend on scheduling.
///
/// Offline, features are explained in parallel over the cores. With a language model
/// (`LOUPE_LLM_BASE_URL`), `session.concurrency` features are explained at once (their requests wait on
/// the network, not the cores), answers are cached under `<report>/findings/llm-cache/`, and the hook's
/// findings record the accounting (`LanguageModelAccounting`).
struct ExplainStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// The seed of feature `index`'s generator.
    static func seed(report: UInt64, feature index: Int) -> UInt64 {
        report &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index)
    }

    /// Where answered language-model requests are kept.
    static func cacheDirectory(_ spec: ReportSpec) -> URL {
        spec.findingsDirectory.appendingPathComponent("llm-cache")
    }

    func run(hook: String, atlas: inout HookAtlas) throws {
        let step = BuildStep.explain(hook: hook)
        let spec = context.spec
        let tokenizer = inputs.tokenizer
        let display = (0..<tokenizer.vocabularySize).map { tokenizer.displayString(for: $0) }
        let session = try withStep(step, path: spec.specURL.path) {
            try LLMSession.requested(
                by: context.environment, cache: LLMResponseCache(directory: Self.cacheDirectory(spec)),
                refresh: context.refreshLanguageModel)
        }
        let result = atlas.result
        let tokens = Double(result.tokens)
        let minimum = Double(spec.minimumFiringTokens)
        let asked = result.features.map { ($0.density * tokens).rounded() >= minimum }
        let sets = result.exampleSets.enumerated().map { index, sets in
            asked[index] ? sets : FeatureExampleSets(explanation: [], heldOutActivating: [], heldOutNonActivating: [])
        }
        let settings = spec.llm.explainerSettings
        let seed = spec.seed
        func explain(_ index: Int) -> FeatureExplanationResult {
            var rng = SeededRandom(seed: Self.seed(report: seed, feature: index))
            return FeatureExplainer.explain(
                sets: sets[index], display: { $0 >= 0 && $0 < display.count ? display[$0] : "<\($0)>" },
                session: session, settings: settings, rng: &rng)
        }
        let progress = context.track(step, session == nil ? "explaining features" : "explaining features with \(session!.model)",
                                     total: sets.count, unit: "features")
        let explanations = try withStep(step, path: spec.specURL.path) {
            if let session {
                return sets.indices.concurrentMap(workers: session.concurrency, progress: { progress.update($0) }, explain)
            }
            return try Array(sets.indices).parallelMap(progress: { progress.update($0) }, explain)
        }
        progress.finish()
        var warned = Set<String>()
        for (index, explained) in explanations.enumerated() {
            atlas.result.features[index].explanation = explained.explanation
            for message in explained.warnings where warned.insert(message).inserted {
                context.note(step, "warning (feature \(index)): \(message)")
            }
        }
        guard let session else { return }
        atlas.languageModel = Self.accounting(model: session.model, explanations: explanations, asked: asked)
        let counts = session.counts
        context.note(step, "\(hook): \(counts.sent) language-model requests sent (\(counts.retries) retries), \(counts.fromCache) answered from the cache")
    }

    /// The accounting of one hook's explanations: features asked (firing often enough and with a
    /// firing window), explained by the model, fallen back and why, and the requests' recorded costs.
    static func accounting(model: String, explanations: [FeatureExplanationResult], asked: [Bool]) -> LanguageModelAccounting {
        var reasons: [String: Int] = [:]
        var cost = LLMCost()
        var (askedCount, explained) = (0, 0)
        for (index, result) in explanations.enumerated() where asked[index] {
            guard let explanation = result.explanation else { continue }
            askedCount += 1
            cost += result.cost
            if let reason = explanation.fallback {
                reasons[reason, default: 0] += 1
            } else if explanation.source == model {
                explained += 1
            }
        }
        let sorted = reasons.map { ReasonCount(reason: $0.key, count: $0.value) }
            .sorted { ($0.count, $1.reason) > ($1.count, $0.reason) }
        return LanguageModelAccounting(
            model: model, asked: askedCount, explained: explained, fellBack: askedCount - explained,
            fallbackReasons: sorted, requests: cost.requests, retries: cost.retries,
            promptTokens: cost.promptTokens, completionTokens: cost.completionTokens)
    }
}
