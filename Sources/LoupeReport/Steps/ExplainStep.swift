import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings

/// The `explain(hook)` step: every feature that fires on at least `min_firing_tokens` corpus tokens
/// is explained on explanation documents and scored on held-out ones (rarer features give too few
/// examples to do both). Features are explained in parallel, each with its own generator seeded
/// from the report's seed and the feature's index, so the result does not depend on scheduling.
struct ExplainStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// The seed of feature `index`'s generator.
    static func seed(report: UInt64, feature index: Int) -> UInt64 {
        report &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index)
    }

    func run(hook: String, atlas: inout HookAtlas) throws {
        let step = BuildStep.explain(hook: hook)
        let tokenizer = inputs.tokenizer
        let display = (0..<tokenizer.vocabularySize).map { tokenizer.displayString(for: $0) }
        let (client, warning) = OpenAIChatClient.ifRequested(by: context.environment)
        if let warning { context.note(step, "warning: \(warning)") }
        let result = atlas.result
        let tokens = Double(result.tokens)
        let minimum = Double(context.spec.minimumFiringTokens)
        let sets = result.exampleSets.enumerated().map { index, sets in
            (result.features[index].density * tokens).rounded() >= minimum
                ? sets : FeatureExampleSets(explanation: [], heldOutActivating: [], heldOutNonActivating: [])
        }
        let seed = context.spec.seed
        let progress = context.track(step, "explaining features", total: sets.count, unit: "features")
        let explanations = try withStep(step, path: context.spec.specURL.path) {
            try Array(sets.indices).parallelMap(progress: { progress.update($0) }) { index in
                var rng = SeededRandom(seed: Self.seed(report: seed, feature: index))
                return FeatureExplainer.explain(
                    sets: sets[index], display: { $0 >= 0 && $0 < display.count ? display[$0] : "<\($0)>" },
                    llm: client, rng: &rng)
            }
        }
        progress.finish()
        var warned = Set<String>()
        for (index, explained) in explanations.enumerated() {
            atlas.result.features[index].explanation = explained.explanation
            for message in explained.warnings where warned.insert(message).inserted {
                context.note(step, "warning (feature \(index)): \(message)")
            }
        }
    }
}
