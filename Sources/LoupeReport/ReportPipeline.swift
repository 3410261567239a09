import Foundation
import LoupeAnalysis
import LoupeFindings

/// The steps of a build after its inputs are checked: `corpus`, `store`, then per hook
/// `dictionary(hook)`, `atlas(hook)` and `explain(hook)`, then `circuit(task)` per circuit task, then
/// `decoder` and `neighbourhoods(site)` per site; the activation store is removed at the end.
///
/// Given the finished shards of a sharded build (`loupe merge`), the store is theirs read as one,
/// the evaluation sample is run on its own, and each atlas starts from the shards' merged first pass.
struct ReportPipeline {
    let context: BuildContext
    let inputs: ReportInputs
    var shards: ShardSet? = nil

    func run() throws -> ReportFindings {
        let spec = context.spec
        let corpus = try context.timed(.corpus) { try CorpusStep(context: context, inputs: inputs).run() }
        let store: ActivationStore
        var evaluation: [EvaluationPass]
        let storeDirectory = spec.findingsDirectory.appendingPathComponent("activations")
        defer { if shards == nil { try? FileManager.default.removeItem(at: storeDirectory) } }
        if let shards {
            store = try withStep(.merge, path: shards.directory.path) { try shards.store() }
            evaluation = try context.timed(.store) { try StoreStep(context: context, inputs: inputs).evaluation(windows: corpus.windows) }
        } else {
            (store, evaluation) = try context.timed(.store) {
                try StoreStep(context: context, inputs: inputs).run(windows: corpus.windows, directory: storeDirectory)
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
                let first = try shards.map { shards in try withStep(.merge, path: shards.directory.path) { try shards.firstPass(hook: index) } }
                return try AtlasStep(context: context, inputs: inputs).run(entry: entry, features: dictionary, store: store, first: first)
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
        let config = inputs.model.config
        let model = ModelSummary(
            path: context.relativePath(spec.model), layers: config.layers, width: config.width, heads: config.heads,
            vocabularySize: config.vocabularySize, contextLength: config.contextLength)
        return ReportFindings(name: spec.name, model: model, corpus: corpus.summary, dictionaries: dictionaries, circuits: circuits,
            neighbourhoods: neighbourhoods)
    }
}
