import Foundation
import LoupeAnalysis
import LoupeFindings

/// The steps of a build after its inputs are checked: `corpus`, `store`, then per hook
/// `dictionary(hook)`, `atlas(hook)` and `explain(hook)`, then `circuit(task)` per circuit task, then
/// `decoder` and `neighbourhoods(site)` per site, then `subspaces(site)` per subspace site. The store and each atlas are kept as
/// `BuildCheckpoints` until the findings are saved, so an interrupted build resumes from them.
///
/// Given the finished shards of a sharded build (`loupe merge`), the store is theirs read as one,
/// the evaluation sample is run on its own, and each atlas is made from the shards' merged passes.
struct ReportPipeline {
    let context: BuildContext
    let inputs: ReportInputs
    var shards: ShardSet? = nil

    func run() throws -> ReportFindings {
        let spec = context.spec
        let corpus = try context.timed(.corpus) { try CorpusStep(context: context, inputs: inputs).run() }
        let checkpoints = BuildCheckpoints(spec: spec)
        let storeKey = try BuildCheckpoints.storeKey(spec)
        let store: ActivationStore
        var evaluation: [EvaluationPass]
        let stepper = StoreStep(context: context, inputs: inputs)
        if let shards {
            store = try withStep(.merge, path: shards.directory.path) { try shards.store() }
            evaluation = try context.timed(.store) { try stepper.evaluation(windows: corpus.windows) }
        } else if let saved = checkpoints.store(key: storeKey) {
            context.note(.store, "reusing the activation store of an unfinished build: \(saved.directory.path)")
            store = saved
            evaluation = try context.timed(.store) { try stepper.evaluation(windows: corpus.windows) }
        } else {
            (store, evaluation) = try context.timed(.store) {
                try stepper.run(windows: corpus.windows, directory: checkpoints.storeDirectory(key: storeKey))
            }
        }

        var dictionaries: [DictionaryFindings] = []
        var atlasDictionaries: [(id: String, hook: String, dictionary: SparseDictionary)] = []
        for (index, entry) in spec.hooks.enumerated() {
            let dictionary = try context.timed(.dictionary(hook: entry.hook)) {
                try DictionaryStep(context: context, inputs: inputs)
                    .run(entry: entry, existing: inputs.dictionaries[index], store: store, evaluation: evaluation)
            }
            // The evaluation sample's activations are not needed past the last dictionary measured.
            if entry.hasDictionary && !spec.hooks[(index + 1)...].contains(where: \.hasDictionary) { evaluation = [] }
            var atlas = try context.timed(.atlas(hook: entry.hook)) {
                let step = AtlasStep(context: context, inputs: inputs)
                let key = try BuildCheckpoints.atlasKey(spec, hook: index, storeKey: storeKey, options: step.options)
                if let saved = checkpoints.atlas(key: key) {
                    context.note(.atlas(hook: entry.hook), "reusing the atlas of \(entry.hook) an unfinished build saved")
                    return HookAtlas(hook: entry.hook, features: dictionary, inputWidth: try store.width(of: entry.hook), result: saved)
                }
                let passes = try shards.map { shards in
                    try withStep(.merge, path: shards.directory.path) {
                        let first = try shards.firstPass(hook: index)
                        let second = try shards.secondPass(
                            hook: index, first: first, encoder: AtlasStep.encoder(dictionary.dictionary), builder: AtlasBuilder(options: step.options))
                        return (first, second)
                    }
                }
                let atlas = try step.run(entry: entry, features: dictionary, store: store, passes: passes)
                try checkpoints.save(atlas.result, key: key)
                return atlas
            }
            if spec.explain {
                try context.timed(.explain(hook: entry.hook)) { try ExplainStep(context: context, inputs: inputs).run(hook: entry.hook, atlas: &atlas) }
            }
            let findings = atlas.findings()
            dictionaries.append(findings)
            if let trained = dictionary.dictionary { atlasDictionaries.append((findings.id, entry.hook, trained)) }
        }
        let circuits = try spec.circuits.map { section in
            try context.timed("circuits") { try CircuitStep(context: context, inputs: inputs).run(section, dictionaries: atlasDictionaries) }
        }
        let neighbourhoods = try spec.neighbourhoods.map { section in
            try context.timed("neighbourhoods") {
                try NeighbourhoodStep(context: context, inputs: inputs).run(section, store: store, windows: corpus.windows, dictionaries: dictionaries)
            }
        }
        let subspaces = try spec.subspaces.map { section in
            try context.timed("subspaces") { try SubspaceStep(context: context, inputs: inputs).run(section, store: store, windows: corpus.windows) }
        }
        let config = inputs.model.config
        let model = ModelSummary(
            path: context.relativePath(spec.model), layers: config.layers, width: config.width, heads: config.heads,
            vocabularySize: config.vocabularySize, contextLength: config.contextLength)
        return ReportFindings(name: spec.name, model: model, corpus: corpus.summary, dictionaries: dictionaries, circuits: circuits,
            neighbourhoods: neighbourhoods, subspaces: subspaces)
    }
}
