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
/// dictionary, or the neurons as they are), then logit effects and decoder neighbours.
struct AtlasStep {
    let context: BuildContext
    let inputs: ReportInputs

    func run(entry: ReportSpec.HookEntry, features: HookFeatures, store: ActivationStore) throws -> HookAtlas {
        let spec = context.spec
        let step = BuildStep.atlas(hook: entry.hook)
        return try withStep(step, path: spec.findingsDirectory.path) {
            let inputWidth = try store.width(of: entry.hook)
            let dictionary = features.dictionary
            let encoder: FeatureEncoder = dictionary.map { d in { try d.encode($0) } } ?? AtlasBuilder.identity
            var options = AtlasOptions()
            options.topK = spec.topExamples
            options.intervals = spec.intervals
            options.examplesPerInterval = spec.intervalExamples
            options.seed = spec.seed
            let progress = context.track(step, "atlas of \(entry.hook)", total: 2 * store.chunkCount, unit: "chunk passes")
            defer { progress.finish() }
            let result = try AtlasBuilder(options: options).build(
                store: store, hook: entry.hook, featureCount: dictionary?.width ?? inputWidth, encoder: encoder,
                tokenizer: inputs.tokenizer, decoder: dictionary?.decoderDirections, model: inputs.model,
                progress: { progress.update(($0.pass - 1) * $0.total + $0.done) })
            return HookAtlas(hook: entry.hook, features: features, inputWidth: inputWidth, result: result)
        }
    }
}
