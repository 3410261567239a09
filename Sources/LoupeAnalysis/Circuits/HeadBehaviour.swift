import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld

/// What each head does on a task: its attention patterns on a few prompts, and the dictionary
/// features its output writes to.
public struct HeadBehaviour {
    public let model: GPT2Model
    /// Features listed per head.
    public var featuresPerHead: Int

    public init(model: GPT2Model, featuresPerHead: Int = 5) {
        self.model = model
        self.featuresPerHead = featuresPerHead
    }

    /// Every head (forward order): patterns on the clean prompts of `shown`, and the top features of
    /// the first dictionary in `dictionaries` that reads the residual stream after the head — ranked by
    /// (the head's `hook_result` at the last position, averaged over `pairs`' clean prompts) · (the
    /// feature's encoder column).
    public func heads(shown: [TaskExample], pairs: [TaskExample], dictionaries: [(id: String, hook: String, dictionary: SparseDictionary)]) throws -> [CircuitHeadFindings] {
        let config = model.config
        let (layers, h) = (config.layers, config.heads)
        var patterns = [[[[Double]]]](repeating: [], count: layers * h)
        for pair in shown {
            let t = pair.clean.count
            let run = try model.forward([pair.clean], ForwardRequest(
                cache: Set((0..<layers).map { "blocks.\($0).attn.hook_pattern" }), computeLogits: false))
            for layer in 0..<layers {
                let pattern = run.cache["blocks.\(layer).attn.hook_pattern"]!.scalars
                for head in 0..<h {
                    patterns[layer * h + head].append((0..<t).map { query in
                        (0..<t).map { key in (Double(pattern[(head * t + query) * t + key]) * 1000).rounded() / 1000 }
                    })
                }
            }
        }
        let outputs = try meanLastOutputs(pairs)
        return (0..<layers).flatMap { layer in
            (0..<h).map { head in
                CircuitHeadFindings(
                    id: "a\(layer).h\(head)", layer: layer, head: head, patterns: patterns[layer * h + head],
                    features: topFeatures(output: outputs[layer * h + head], layer: layer, dictionaries: dictionaries))
            }
        }
    }

    /// Each head's `hook_result` at the last position, averaged over the clean prompts (`[C]` per head).
    private func meanLastOutputs(_ pairs: [TaskExample]) throws -> [[Double]] {
        let config = model.config
        let (layers, h, c) = (config.layers, config.heads, config.width)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: c), count: layers * h)
        for batch in try CircuitBatching.batches(pairs, model: model, rows: { _ in 64 }) {
            let t = batch.length
            let run = try model.forward(batch.clean, ForwardRequest(
                cache: Set((0..<layers).map { "blocks.\($0).attn.hook_result" }), computeLogits: false))
            for layer in 0..<layers {
                let result = run.cache["blocks.\(layer).attn.hook_result"]!.scalars
                for row in 0..<batch.clean.count {
                    for head in 0..<h {
                        let base = ((row * t + t - 1) * h + head) * c
                        for i in 0..<c { sums[layer * h + head][i] += Double(result[base + i]) }
                    }
                }
            }
        }
        return sums.map { $0.map { $0 / Double(max(pairs.count, 1)) } }
    }

    /// The top features (by weight, positive only) of the first dictionary reading the residual
    /// stream after layer `layer`'s attention.
    private func topFeatures(output: [Double], layer: Int, dictionaries: [(id: String, hook: String, dictionary: SparseDictionary)]) -> [CircuitHeadFeature] {
        guard let entry = dictionaries.first(where: { Self.readsResidual(after: layer, hook: $0.hook) && $0.dictionary.inputWidth == output.count }) else {
            return []
        }
        let encoder = entry.dictionary.encoderWeight
        let features = entry.dictionary.width
        var weights = [Double](repeating: 0, count: features)
        for (channel, value) in output.enumerated() where value != 0 {
            for feature in 0..<features { weights[feature] += value * Double(encoder.scalars[channel * features + feature]) }
        }
        return weights.indices
            .filter { weights[$0] > 0 }
            .sorted { weights[$0] == weights[$1] ? $0 < $1 : weights[$0] > weights[$1] }
            .prefix(featuresPerHead)
            .map { CircuitHeadFeature(dictionary: entry.id, feature: $0, weight: (weights[$0] * 10_000).rounded() / 10_000) }
    }

    /// Whether `hook` is the residual stream at a point after layer `layer`'s attention.
    static func readsResidual(after layer: Int, hook: String) -> Bool {
        guard let point = HookPoint(hook), let hookLayer = point.layer else { return false }
        switch point.site {
        case "hook_resid_pre": return hookLayer > layer
        case "hook_resid_mid", "hook_resid_post": return hookLayer >= layer
        default: return false
        }
    }
}
