import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel

/// Runs a `SubspaceTrainingSpec` (`loupe subspaces`): the corpus through the model into a temporary
/// activation store at the site, a sample of it, NDM, the partition's files written into the spec's
/// output (staged and swapped in), then the causal check of each task.
public enum NDMTraining {
    /// What training reports as it goes: `step` of `total` and that step's record.
    public typealias Progress = (_ step: Int, _ total: Int, _ record: NDMStepRecord) -> Void

    /// The trained partition and the causal checks.
    public struct Result: Sendable {
        public var files: SubspaceFiles
        public var tasks: [SubspaceTaskFindings]
    }

    public static func run(spec: SubspaceTrainingSpec, progress: Progress? = nil) throws -> Result {
        func failing<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch let error as BuildError { throw error } catch {
                throw BuildError(step: .subspaces(site: spec.site), path: spec.path, reason: "\(error)")
            }
        }
        return try failing {
            let model = try GPT2Model.load(directory: spec.model)
            let tokenizer = try TokenizerLoader.load(directory: spec.model)
            let bos = try BeginningOfSequence.id(prepend: spec.prependBOS, tokenizer: tokenizer, key: "corpus.prepend_bos",
                                                 spec: spec.path, model: spec.model)
            let corpus = try CorpusStep.documents(spec.corpus, contextLength: spec.contextLength)
            let windows = try TokenizedCorpus(corpus: corpus, tokenizer: tokenizer)
                .windows(contextLength: min(spec.contextLength, model.config.contextLength), bos: bos)
            guard !windows.isEmpty else { throw BuildError(step: .corpus, path: spec.path, reason: "key 'corpus': the corpus holds no tokens") }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-subspaces-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let store = try ActivationStore.build(model: model, windows: windows, hooks: [spec.site], directory: scratch)
            let settings = spec.training
            let sample = try SubspaceSample.draw(store: store, hook: spec.site, rows: settings.samples, seed: settings.ndm.seed)
            var trainer = try NDMTrainer(site: spec.site, activations: sample.activations, settings: settings.ndm)
            trainer.train(progress: progress)
            let files = SubspaceFiles(trainer: trainer, samples: sample.documents.count)
            try files.save(to: spec.output, log: trainer.logCSV)
            let tasks = try spec.tasks.map { task in
                try SubspaceComparison.run(
                    task: task, model: model, modelDirectory: spec.model, site: spec.site, rotation: files.rotation,
                    partition: files.partition, activations: sample.activations, examples: spec.examples, seed: settings.ndm.seed,
                    prependBOS: spec.prependBOS)
            }
            return Result(files: files, tasks: tasks)
        }
    }
}
