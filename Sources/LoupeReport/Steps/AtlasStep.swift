import Foundation
import LoupeAnalysis
import LoupeFindings

/// One hook's atlas as it is being built: the features' statistics and examples, and the
/// dictionary facts they are reported with.
struct HookAtlas {
    let hook: String
    let features: HookFeatures
    let inputWidth: Int
    var result: AtlasResult
    /// What the language model did for the explanations (set by the explain step when one was used).
    var languageModel: LanguageModelAccounting? = nil

    /// The hook's section of the findings. The dead fraction of the quality figures is the atlas's
    /// (features that never fire on the whole corpus), not the quality sample's.
    func findings() -> DictionaryFindings {
        let count = result.features.count
        var quality = features.quality
        quality?.deadFraction = Double(result.features.filter { $0.density == 0 }.count) / Double(max(1, count))
        let explained = result.features.compactMap(\.explanation)
        return DictionaryFindings(
            id: "\(hook)-\(features.kind.rawValue)", hook: hook, kind: features.kind, source: features.source,
            inputWidth: inputWidth, width: count, quality: quality,
            medianDetection: explained.isEmpty ? nil : Self.median(explained.map(\.detection)),
            medianSimulation: explained.isEmpty ? nil : Self.median(explained.map(\.simulation)),
            features: result.features, languageModel: languageModel)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// The `atlas(hook)` step: both streaming passes over the stored activations (encoded by the
/// dictionary, or the neurons as they are), then logit effects and decoder neighbours. A sharded
/// build runs the first pass in each shard (`firstPass`) and the rest at the merge (`run(first:)`).
struct AtlasStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// The hook's atlas; `first`: the first pass already made (merged from the shards).
    func run(entry: ReportSpec.HookEntry, features: HookFeatures, store: ActivationStore, first: FirstPassStatistics? = nil) throws -> HookAtlas {
        let step = BuildStep.atlas(hook: entry.hook)
        return try withStep(step, path: context.spec.findingsDirectory.path) {
            let inputWidth = try store.width(of: entry.hook)
            let dictionary = features.dictionary
            let builder = AtlasBuilder(options: options)
            let passes = first == nil ? 2 : 1
            let progress = context.track(step, "atlas of \(entry.hook)", total: passes * store.chunkCount, unit: "chunk passes")
            defer { progress.finish() }
            // Pass 2 follows pass 1's chunks when both run here.
            let report: (AtlasProgress) -> Void = { progress.update((passes == 2 ? $0.pass - 1 : 0) * $0.total + $0.done) }
            let encoder = Self.encoder(dictionary)
            let firstPass = try first ?? builder.firstPass(
                store: store, hook: entry.hook, featureCount: dictionary?.width ?? inputWidth, encoder: encoder, progress: report)
            let second = try builder.secondPass(store: store, first: firstPass, encoder: encoder, progress: report)
            let result = try builder.findings(
                first: firstPass, second: second, tokenizer: inputs.tokenizer, decoder: dictionary?.decoderDirections, model: inputs.model)
            return HookAtlas(hook: entry.hook, features: features, inputWidth: inputWidth, result: result)
        }
    }

    /// The first pass of the hook over `store` (a shard's slice of the corpus).
    func firstPass(entry: ReportSpec.HookEntry, dictionary: SparseDictionary?, store: ActivationStore) throws -> FirstPassStatistics {
        let step = BuildStep.atlas(hook: entry.hook)
        return try withStep(step, path: store.directory.path) {
            let inputWidth = try store.width(of: entry.hook)
            let progress = context.track(step, "first atlas pass of \(entry.hook)", total: store.chunkCount, unit: "chunks")
            defer { progress.finish() }
            return try AtlasBuilder(options: options).firstPass(
                store: store, hook: entry.hook, featureCount: dictionary?.width ?? inputWidth, encoder: Self.encoder(dictionary),
                progress: { progress.update($0.done) })
        }
    }

    /// The atlas options of the spec.
    var options: AtlasOptions {
        var options = AtlasOptions()
        options.topK = context.spec.topExamples
        options.intervals = context.spec.intervals
        options.examplesPerInterval = context.spec.intervalExamples
        options.seed = context.spec.seed
        return options
    }

    /// The dictionary's encoder, or the neurons as they are.
    static func encoder(_ dictionary: SparseDictionary?) -> FeatureEncoder {
        dictionary.map { d in { try d.encode($0) } } ?? AtlasBuilder.identity
    }
}
