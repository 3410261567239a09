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
/// build runs the passes in the shards and the rest at the merge (`run(passes:)`).
struct AtlasStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// The hook's atlas: both passes over `store`, or the findings of `passes` already made (merged from the shards).
    func run(
        entry: ReportSpec.HookEntry, features: HookFeatures, store: ActivationStore,
        passes: (first: FirstPassStatistics, second: SecondPassStatistics)? = nil
    ) throws -> HookAtlas {
        let step = BuildStep.atlas(hook: entry.hook)
        return try withStep(step, path: context.spec.findingsDirectory.path) {
            let inputWidth = try store.width(of: entry.hook)
            let dictionary = features.dictionary
            let builder = AtlasBuilder(options: options)
            let (first, second) = try passes ?? {
                let progress = context.track(step, "atlas of \(entry.hook)", total: 2 * store.chunkCount, unit: "chunk passes")
                defer { progress.finish() }
                return try builder.passes(
                    store: store, hook: entry.hook, featureCount: dictionary?.width ?? inputWidth, encoder: Self.encoder(dictionary),
                    progress: { progress.update(($0.pass - 1) * $0.total + $0.done) })
            }()
            // Codes of a pass made here are temporary; a merge's belong to the shards' folders.
            defer { if passes == nil { first.removeCoFiringCodes() } }
            let result = try builder.findings(
                first: first, second: second, tokenizer: inputs.tokenizer, decoder: dictionary?.decoderDirections, model: inputs.model)
            return HookAtlas(hook: entry.hook, features: features, inputWidth: inputWidth, result: result)
        }
    }

    /// The first pass of the hook over `store` (a shard's slice of the corpus), co-firing codes (if
    /// any) written to `coFiringCodes`.
    func firstPass(
        entry: ReportSpec.HookEntry, dictionary: SparseDictionary?, store: ActivationStore, coFiringCodes: URL
    ) throws -> FirstPassStatistics {
        let step = BuildStep.atlas(hook: entry.hook)
        return try withStep(step, path: store.directory.path) {
            let inputWidth = try store.width(of: entry.hook)
            let progress = context.track(step, "first atlas pass of \(entry.hook)", total: store.chunkCount, unit: "chunks")
            defer { progress.finish() }
            return try AtlasBuilder(options: options).firstPass(
                store: store, hook: entry.hook, featureCount: dictionary?.width ?? inputWidth, encoder: Self.encoder(dictionary),
                coFiringCodes: coFiringCodes, progress: { progress.update($0.done) })
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
