import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings

/// The features of one hook: a dictionary (loaded or trained) or the hook's neurons, with where
/// they came from and how well the dictionary reconstructs the hook.
struct HookFeatures {
    let dictionary: SparseDictionary?
    let kind: DictionaryKind
    let source: String
    let quality: DictionaryQuality?
}

/// The `dictionary(hook)` step: the hook's dictionary as the spec gives it (SAELens, trained by
/// Loupe, or none for neurons), trained on the stored activations when it does not exist yet, and
/// its reconstruction quality on the evaluation sample (from the sweep's clean passes over it).
struct DictionaryStep {
    let context: BuildContext
    let inputs: ReportInputs

    func run(
        entry: ReportSpec.HookEntry, existing: SparseDictionary?, store: ActivationStore, evaluation: [EvaluationPass]
    ) throws -> HookFeatures {
        let step = BuildStep.dictionary(hook: entry.hook)
        let dictionary: SparseDictionary
        let source: String
        switch entry.source {
        case .neurons:
            return HookFeatures(dictionary: nil, kind: .neurons, source: "neurons of the hook", quality: nil)
        case let .saelens(url):
            source = "SAELens dictionary \(url.lastPathComponent)"
            dictionary = try existing ?? withStep(step, path: url.path) { try SparseDictionary.load(directory: url) }
        case let .trainTopK(width, k, steps, seed, path):
            source = "TopK dictionary trained by Loupe (width \(width), k \(k))"
            dictionary = try existing ?? withStep(step, path: path.path) {
                try train(hook: entry.hook, store: store, width: width, k: k, steps: steps, seed: seed, path: path)
            }
        }
        context.note(step, "measuring reconstruction quality at \(entry.hook)")
        let quality = try withStep(step, path: context.spec.model.path) {
            try DictionaryEvaluation.evaluate(dictionary: dictionary, model: inputs.model, passes: evaluation)
        }
        return HookFeatures(dictionary: dictionary, kind: DictionaryKind(dictionary.architecture), source: source, quality: quality)
    }

    /// Trains a TopK dictionary on the hook's stored activations (special tokens left out) and
    /// saves it at `path`.
    private func train(
        hook: String, store: ActivationStore, width: Int, k: Int, steps: Int, seed: UInt64, path: URL
    ) throws -> SparseDictionary {
        var rows: [Float] = []
        var count = 0
        try store.forEachChunk(hook: hook) { chunk in
            for row in 0..<chunk.rowCount where !chunk.special[row] {
                rows.append(contentsOf: chunk.activations.scalars[(row * chunk.width)..<((row + 1) * chunk.width)])
                count += 1
            }
        }
        let data = try Tensor(shape: [count, try store.width(of: hook)], scalars: rows)
        var settings = TopKTrainingSettings()
        settings.width = width
        settings.k = k
        settings.epochs = max(1, (steps * settings.batchSize + count - 1) / max(1, count))
        let step = BuildStep.dictionary(hook: hook)
        context.note(step, "training a TopK dictionary at \(hook): \(count) rows, width \(width), k \(k), \(settings.epochs) epochs")
        var rng = SeededRandom(seed: seed)
        var trainer = try TopKTrainer(hookName: hook, rows: data, settings: settings, rng: &rng)
        let batches = settings.epochs * ((count + settings.batchSize - 1) / settings.batchSize)
        let progress = context.track(step, "training the dictionary", total: batches, unit: "steps")
        _ = try trainer.train(rows: data, rng: &rng, progress: { report in
            progress.update(report.step, detail: String(format: "mse %.4f, dead %.1f %%", report.meanSquaredError, 100 * report.deadFraction))
        })
        progress.finish()
        try trainer.dictionary().save(to: path)
        // Use the saved dictionary itself (saving folds the input scaling into the weights), so this
        // build and every later one that loads it compute from the same numbers.
        return try SparseDictionary.load(directory: path)
    }
}

extension DictionaryKind {
    /// The kind of a dictionary of `architecture`.
    init(_ architecture: DictionaryArchitecture) {
        switch architecture {
        case .standard: self = .standard
        case .topk: self = .topk
        case .jumprelu: self = .jumprelu
        }
    }
}
