import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeSite

/// The atlas benchmark of `make bench`: the comparison SAEDashboard's figures are quoted for.
///
/// A GPT-2-small-shaped model (random weights), `windows` × 128 random tokens, a random TopK
/// dictionary 768 → 4096 (k 32) at `blocks.6.hook_resid_pre`: one model sweep into the activation
/// store (stopping at block 6), then the atlas of all 4096 features (encode + statistics, both
/// passes, logit effects, neighbours), then every feature page of the site.
struct AtlasBenchmark {
    var windows: Int

    struct Result {
        var storeSeconds, atlasSeconds, siteSeconds: Double
        var tokens, features, medianPageBytes, largestPageBytes: Int
    }

    func run(model: GPT2Model) throws -> Result {
        let (length, hook, features, k) = (128, "blocks.6.hook_resid_pre", 4096, 32)
        var rng = SeededRandom(seed: 21)
        let windows = (0..<self.windows).map { index in
            CorpusWindow(document: index, start: 0, tokens: (0..<length).map { _ in rng.nextInt(below: model.config.vocabularySize) }, hasBOS: false)
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-atlas-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var store: ActivationStore?
        let storeSeconds = try seconds {
            store = try ActivationStore.build(model: model, windows: windows, hooks: [hook], directory: scratch.appendingPathComponent("store"))
        }
        let width = model.config.width
        let dictionary = try BenchDictionary.randomTopK(hook: hook, width: width, features: features, k: k, rng: &rng)
        let tokenizer = try WordTokenizer(tokens: (0..<model.config.vocabularySize).map { "t\($0)" })
        var atlas: AtlasResult?
        let atlasSeconds = try seconds {
            atlas = try AtlasBuilder().build(
                store: store!, hook: hook, featureCount: features, encoder: { try dictionary.encode($0) },
                tokenizer: tokenizer, decoder: dictionary.decoderDirections, model: model)
        }
        let findings = ReportFindings(
            name: "bench",
            model: ModelSummary(path: "random", layers: model.config.layers, width: width, heads: model.config.heads,
                                vocabularySize: model.config.vocabularySize, contextLength: model.config.contextLength),
            corpus: CorpusSummary(files: ["random"], documents: windows.count, tokens: windows.count * length, contextLength: length),
            dictionaries: [DictionaryFindings(
                id: "bench", hook: hook, kind: .topk, source: "random", inputWidth: width, width: features, quality: nil,
                medianDetection: nil, medianSimulation: nil, features: atlas!.features)])
        let site = scratch.appendingPathComponent("site")
        let siteSeconds = try seconds { try SiteWriter().write(findings: findings, summaryMarkdown: "# bench", to: site) }
        let pages = try FileManager.default.contentsOfDirectory(at: site.appendingPathComponent("bench/features"), includingPropertiesForKeys: [.fileSizeKey])
            .map { try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0 }.sorted()
        return Result(
            storeSeconds: storeSeconds, atlasSeconds: atlasSeconds, siteSeconds: siteSeconds, tokens: windows.count * length,
            features: features, medianPageBytes: pages[pages.count / 2], largestPageBytes: pages.last ?? 0)
    }
}
