import Foundation
import LoupeAnalysis

/// The `store` step: every window through the model once, every atlas hook and neighbourhood site
/// captured into an activation store on disk (the sweep stops at the deepest hook, except over the
/// evaluation sample, which runs on to the loss).
struct StoreStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// The store, and the sweep's clean passes over the evaluation sample of the hooks that have a dictionary.
    func run(windows: [CorpusWindow], directory: URL) throws -> (store: ActivationStore, evaluation: [EvaluationPass]) {
        try withStep(.store, path: directory.path) {
            let progress = context.track(.store, "running the model", total: windows.count, unit: "windows")
            defer { progress.finish() }
            let evaluated = context.spec.hooks.filter(\.hasDictionary).map(\.hook)
            let sample = evaluated.isEmpty ? nil : EvaluationSample.spread(over: windows, tokens: context.spec.evaluationTokens, hooks: evaluated)
            return try ActivationStore.build(
                model: inputs.model, windows: windows, hooks: Self.hooks(context.spec), directory: directory,
                evaluating: sample, progress: { done, _ in progress.update(done) })
        }
    }

    /// The hooks stored: the atlas hooks, then the neighbourhood sites' hooks, each once.
    static func hooks(_ spec: ReportSpec) -> [String] {
        var hooks: [String] = []
        for hook in spec.hooks.map(\.hook) + (spec.neighbourhoods?.sites.map(\.hook) ?? []) where !hooks.contains(hook) {
            hooks.append(hook)
        }
        return hooks
    }
}
