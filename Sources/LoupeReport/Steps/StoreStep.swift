import Foundation
import LoupeAnalysis

/// The `store` step: every window through the model once, every spec hook captured into an
/// activation store on disk (the sweep stops at the deepest hook).
struct StoreStep {
    let context: BuildContext
    let inputs: ReportInputs

    func run(windows: [CorpusWindow], directory: URL) throws -> ActivationStore {
        try withStep(.store, path: directory.path) {
            let progress = context.track(.store, "running the model", total: windows.count, unit: "windows")
            defer { progress.finish() }
            return try ActivationStore.build(
                model: inputs.model, windows: windows, hooks: context.spec.hooks.map(\.hook), directory: directory,
                progress: { done, _ in progress.update(done) })
        }
    }
}
