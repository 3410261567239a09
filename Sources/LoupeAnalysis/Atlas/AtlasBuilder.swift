import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel

/// The atlas of one dictionary (or one hook's neurons) over a corpus: one `FeatureFindings`
/// (explanation `nil`) and one `FeatureExampleSets` per feature, both `F` long in index order.
public struct AtlasResult: Codable, Sendable, Equatable {
    public var features: [FeatureFindings]
    public var exampleSets: [FeatureExampleSets]
    /// Corpus tokens (non-special rows) the statistics cover.
    public var tokens: Int
}

/// Where an atlas computation is: `pass` 1 or 2, `done` of `total` chunks.
public struct AtlasProgress: Sendable, Equatable {
    public var pass: Int
    public var done: Int
    public var total: Int
}

/// Computes feature atlases from an activation store in two streaming passes.
///
/// Pass 1 (`FirstPassStatistics`): counts, maxima, sums, strongest examples, co-firing counts.
/// Pass 2 (`SecondPassStatistics`, given the maxima): histograms, interval samples, held-out
/// non-activating windows. `findings` turns both into `FeatureFindings` and
/// `FeatureExampleSets`, adding logit effects and decoder neighbours when decoder directions are
/// given. Each pass encodes the store chunk by chunk (`[rows, d_in]` → `[rows, F]`); nothing
/// loops over all tokens once per feature. For sharded builds, run pass 1 on every shard and
/// `merge`, then pass 2 on every shard with the merged first pass and `merge`, then `findings`.
public struct AtlasBuilder: Sendable {
    public var options: AtlasOptions

    public init(options: AtlasOptions = AtlasOptions()) {
        self.options = options
    }

    /// The encoder of a hook's own units (neurons): the activations unchanged (`F = d_in`).
    public static let identity: FeatureEncoder = { $0 }

    /// Pass 1 over every chunk of `hook` in `store`; a dictionary too wide for dense co-firing counts
    /// writes its codes to `coFiringCodes` (see `FirstPassStatistics`).
    public func firstPass(
        store: ActivationStore, hook: String, featureCount: Int, encoder: FeatureEncoder, coFiringCodes: URL? = nil,
        progress: ((AtlasProgress) -> Void)? = nil
    ) throws -> FirstPassStatistics {
        var statistics = try FirstPassStatistics(
            hook: hook, featureCount: featureCount, inputWidth: store.width(of: hook), options: options, coFiringCodes: coFiringCodes)
        var done = 0
        try store.forEachChunk(hook: hook) { chunk in
            try statistics.add(chunk, encoder: encoder)
            done += 1
            progress?(AtlasProgress(pass: 1, done: done, total: store.chunkCount))
        }
        return statistics
    }

    /// Pass 2 over every chunk of the first pass's hook in `store`, with its maxima.
    public func secondPass(
        store: ActivationStore, first: FirstPassStatistics, encoder: FeatureEncoder,
        progress: ((AtlasProgress) -> Void)? = nil
    ) throws -> SecondPassStatistics {
        try secondPass(store: store, start: SecondPassStatistics(first: first), encoder: encoder, progress: progress)
    }

    /// Pass 2 over every chunk of `start`'s hook in `store`, added to `start` (empty statistics with
    /// the maxima of the whole corpus, when `store` holds one shard of it).
    public func secondPass(
        store: ActivationStore, start: SecondPassStatistics, encoder: FeatureEncoder,
        progress: ((AtlasProgress) -> Void)? = nil
    ) throws -> SecondPassStatistics {
        var statistics = start
        var done = 0
        try store.forEachChunk(hook: start.hook) { chunk in
            try statistics.add(chunk, encoder: encoder)
            done += 1
            progress?(AtlasProgress(pass: 2, done: done, total: store.chunkCount))
        }
        return statistics
    }

    /// Both passes and the findings.
    ///
    /// `decoder` holds the features' decoder directions `[F, d_in]` (nil for neurons): it gives
    /// neighbours by cosine, and, with `model` and a residual-stream hook (`hook_resid_pre|mid|post`,
    /// `hook_attn_out`, `hook_mlp_out`), logit effects.
    public func build(
        store: ActivationStore, hook: String, featureCount: Int, encoder: FeatureEncoder, tokenizer: any Tokenizer,
        decoder: Tensor? = nil, model: GPT2Model? = nil, progress: ((AtlasProgress) -> Void)? = nil
    ) throws -> AtlasResult {
        if let decoder { try Self.checkDecoder(decoder, featureCount: featureCount, inputWidth: store.width(of: hook), hook: hook) }
        let (first, second) = try passes(store: store, hook: hook, featureCount: featureCount, encoder: encoder, progress: progress)
        defer { first.removeCoFiringCodes() }
        return try findings(first: first, second: second, tokenizer: tokenizer, decoder: decoder, model: model)
    }

    /// Pass 1, then pass 2 with its maxima, over every chunk of `hook` in `store`.
    public func passes(
        store: ActivationStore, hook: String, featureCount: Int, encoder: FeatureEncoder, progress: ((AtlasProgress) -> Void)? = nil
    ) throws -> (first: FirstPassStatistics, second: SecondPassStatistics) {
        let first = try firstPass(store: store, hook: hook, featureCount: featureCount, encoder: encoder, progress: progress)
        return (first, try secondPass(store: store, first: first, encoder: encoder, progress: progress))
    }

    /// Whether logit effects apply at `hook` (the hook writes to or is the residual stream).
    public static func isResidualHook(_ hook: String) -> Bool {
        guard let point = HookPoint(hook) else { return false }
        return ["hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out"].contains(point.site)
    }

    static func checkDecoder(_ decoder: Tensor, featureCount: Int, inputWidth: Int, hook: String) throws {
        guard decoder.shape == [featureCount, inputWidth] else {
            throw AtlasError.decoderShape(hook: hook, expected: [featureCount, inputWidth], found: decoder.shape)
        }
    }

    /// The findings and example sets of both passes (explanations left `nil`).
    public func findings(
        first: FirstPassStatistics, second: SecondPassStatistics, tokenizer: any Tokenizer,
        decoder: Tensor? = nil, model: GPT2Model? = nil
    ) throws -> AtlasResult {
        let count = first.featureCount
        guard second.featureCount == count, second.hook == first.hook, second.options == first.options,
              second.maxima.map(\.bitPattern) == first.maxima.map(\.bitPattern)
        else {
            throw AtlasError.incompatibleShards(reason: "the second pass was not run with this first pass's maxima")
        }
        let options = first.options
        var neighbours = [[FeatureLink]](repeating: [], count: count)
        var logits = [LogitEffects?](repeating: nil, count: count)
        if let decoder {
            try Self.checkDecoder(decoder, featureCount: count, inputWidth: first.inputWidth, hook: first.hook)
            neighbours = try DecoderGeometry.neighbours(decoder, count: options.neighbours)
            if let model, Self.isResidualHook(first.hook) {
                guard decoder.shape[1] == model.config.width else {
                    throw AtlasError.modelWidth(hook: first.hook, decoderWidth: decoder.shape[1], modelWidth: model.config.width)
                }
                logits = try DecoderGeometry.logitEffects(decoder, model: model, tokenizer: tokenizer, options: options).map { Optional($0) }
            }
        }
        let coFiringLinks = try first.coFiringLinks(capacity: options.coFiring)
        var features: [FeatureFindings] = []
        var sets: [FeatureExampleSets] = []
        features.reserveCapacity(count)
        sets.reserveCapacity(count)
        var display: [Int: String] = [:]
        func displayTokens(_ ids: [Int]) -> [String] {
            ids.map { id in
                if let cached = display[id] { return cached }
                let text = tokenizer.displayString(for: id)
                display[id] = text
                return text
            }
        }
        let bins = options.histogramBins
        for f in 0..<count {
            let fires = first.fireCounts[f]
            let maximum = first.maxima[f]
            let explanationTop = first.strongest[2 * f].entries
            let heldOutTop = first.strongest[2 * f + 1].entries
            let top = (explanationTop + heldOutTop)
                .sorted { first.strongest[2 * f].precedes($0, $1) }
                .prefix(options.topK)
                .map { Self.example($0, before: options.exampleBefore, after: options.exampleAfter, display: displayTokens) }
            var groups: [IntervalGroup] = []
            if fires > 0 && maximum > 0 {
                for i in 0..<options.intervals {
                    let slot = (f * options.intervals + i) * 2
                    let sampler = second.intervalSamples[slot]
                    let chosen = (second.intervalSamples[slot].entries + second.intervalSamples[slot + 1].entries)
                        .sorted { sampler.precedes($0, $1) }
                        .prefix(options.examplesPerInterval)
                        .sorted { ($0.activation, $1.document, $1.position) > ($1.activation, $0.document, $0.position) }
                    groups.append(IntervalGroup(
                        lower: intervalBound(i, maximum: maximum, count: options.intervals),
                        upper: intervalBound(i + 1, maximum: maximum, count: options.intervals),
                        examples: chosen.map { Self.example($0, before: options.exampleBefore, after: options.exampleAfter, display: displayTokens) }))
                }
            }
            features.append(FeatureFindings(
                index: f, density: first.tokens > 0 ? Double(fires) / Double(first.tokens) : 0, maxActivation: maximum,
                meanActivation: first.meanActivation(f),
                histogram: Histogram(lower: 0, upper: maximum, counts: Array(second.histograms[(f * bins)..<((f + 1) * bins)])),
                topExamples: Array(top), intervals: groups, logitEffects: logits[f], neighbours: neighbours[f],
                coFiring: coFiringLinks[f], explanation: nil))
            sets.append(fires > 0 ? exampleSets(feature: f, explanationTop: explanationTop, heldOutTop: heldOutTop, second: second) : FeatureExampleSets(explanation: [], heldOutActivating: [], heldOutNonActivating: []))
        }
        return AtlasResult(features: features, exampleSets: sets, tokens: first.tokens)
    }

    /// The explainer's windows of one feature: strongest and one sample per interval from
    /// explanation documents; strongest and one per interval from held-out documents; random
    /// held-out windows where it does not fire. No two windows of a list share a model window.
    private func exampleSets(
        feature f: Int, explanationTop: [ExampleCandidate], heldOutTop: [ExampleCandidate], second: SecondPassStatistics
    ) -> FeatureExampleSets {
        func pick(_ top: [ExampleCandidate], count: Int, split: Int) -> [ScoredWindow] {
            var chosen = Array(top.prefix(count))
            for i in 0..<options.intervals {
                let samples = second.intervalSamples[(f * options.intervals + i) * 2 + split].entries
                if let sample = samples.first(where: { s in !chosen.contains { $0.document == s.document && $0.region == s.region } }) {
                    chosen.append(sample)
                }
            }
            return chosen.map { Self.window($0, before: options.windowBefore, after: options.windowAfter) }
        }
        let nonActivating = second.nonActivating[f].entries.map {
            ScoredWindow(document: $0.document, start: $0.start, tokens: $0.tokens, activations: $0.activations)
        }
        return FeatureExampleSets(
            explanation: pick(explanationTop, count: options.explanationTop, split: 0),
            heldOutActivating: pick(heldOutTop, count: options.heldOutTop, split: 1),
            heldOutNonActivating: nonActivating)
    }

    /// The part of a candidate's tokens from `before` tokens before its focus to `after` after.
    private static func cut(_ candidate: ExampleCandidate, before: Int, after: Int) -> Range<Int> {
        let focus = candidate.focus
        return max(0, focus - before)..<min(candidate.tokens.count, focus + after + 1)
    }

    static func example(_ candidate: ExampleCandidate, before: Int, after: Int, display: ([Int]) -> [String]) -> ActivationExample {
        let range = cut(candidate, before: before, after: after)
        return ActivationExample(
            document: candidate.document, position: candidate.position, tokens: display(Array(candidate.tokens[range])),
            activations: Array(candidate.activations[range]), focus: candidate.focus - range.lowerBound)
    }

    static func window(_ candidate: ExampleCandidate, before: Int, after: Int) -> ScoredWindow {
        let range = cut(candidate, before: before, after: after)
        return ScoredWindow(
            document: candidate.document, start: candidate.start + range.lowerBound,
            tokens: Array(candidate.tokens[range]), activations: Array(candidate.activations[range]))
    }
}

/// The `capacity` highest-scoring links offered, best first; ties go to the smaller index.
struct TopLinks {
    let capacity: Int
    private(set) var links: [FeatureLink] = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    @inline(__always)
    static func precedes(_ score: Float, _ index: Int, _ other: FeatureLink) -> Bool {
        score != other.score ? score > other.score : index < other.index
    }

    @inline(__always)
    mutating func offer(index: Int, score: Float) {
        guard capacity > 0, !score.isNaN else { return }
        if links.count == capacity {
            guard let last = links.last, Self.precedes(score, index, last) else { return }
            links.removeLast()
        }
        let slot = links.firstIndex { Self.precedes(score, index, $0) } ?? links.count
        links.insert(FeatureLink(index: index, score: score), at: slot)
    }
}
