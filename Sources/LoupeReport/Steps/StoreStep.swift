import Foundation
import LoupeAnalysis

/// The `store` step: every window through the model once, every atlas hook and neighbourhood site
/// captured into an activation store on disk (the sweep stops at the deepest hook, except over the
/// evaluation sample, which runs on to the loss).
struct StoreStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// The store, and the sweep's clean passes over the evaluation sample of the hooks that have a
    /// dictionary (none when `evaluating` is false: a shard's slice of the corpus). `windowStride`:
    /// the whole corpus's, when `windows` are a slice of it.
    func run(
        windows: [CorpusWindow], directory: URL, evaluating: Bool = true, windowStride: Int? = nil
    ) throws -> (store: ActivationStore, evaluation: [EvaluationPass]) {
        try withStep(.store, path: directory.path) {
            let progress = context.track(.store, "running the model", total: windows.count, unit: "windows")
            defer { progress.finish() }
            return try ActivationStore.build(
                model: inputs.model, windows: windows, hooks: Self.hooks(context.spec), directory: directory,
                options: ActivationStoreOptions(windowStride: windowStride), evaluating: evaluating ? sample(windows) : nil,
                progress: { done, _ in progress.update(done) })
        }
    }

    /// The clean passes `run` returns, over the evaluation sample alone (for a store made by shards).
    func evaluation(windows: [CorpusWindow]) throws -> [EvaluationPass] {
        guard let sample = sample(windows) else { return [] }
        return try withStep(.store, path: context.spec.model.path) {
            context.note(.store, "running the model over the evaluation sample")
            return try ActivationStore.evaluate(model: inputs.model, windows: windows, sample: sample)
        }
    }

    /// The evaluation sample of the hooks that have a dictionary (nil when none has).
    private func sample(_ windows: [CorpusWindow]) -> EvaluationSample? {
        let evaluated = context.spec.hooks.filter(\.hasDictionary).map(\.hook)
        return evaluated.isEmpty ? nil : EvaluationSample.spread(over: windows, tokens: context.spec.evaluationTokens, hooks: evaluated)
    }

    /// The hooks stored: the atlas hooks, then the neighbourhood sites' and the subspace sites' hooks, each once.
    static func hooks(_ spec: ReportSpec) -> [String] {
        var hooks: [String] = []
        for hook in spec.hooks.map(\.hook) + (spec.neighbourhoods?.sites.map(\.hook) ?? []) + (spec.subspaces?.sites.map(\.hook) ?? []) where !hooks.contains(hook) {
            hooks.append(hook)
        }
        return hooks
    }
}
