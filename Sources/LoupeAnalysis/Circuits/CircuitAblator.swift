import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld

/// Measures the metric with a set of nodes knocked out, and its normalised form
/// `(M − M(corrupted)) / (M(clean) − M(corrupted))`.
///
/// A knocked-out node's activation (a head's slice of `attn.hook_z`, an MLP's `hook_mlp_out`) is
/// replaced at every position by: its mean over the corrupted prompts of the same length (`mean`),
/// its value on the next pair's corrupted prompt of the same length (`resample`), or zero (`zero`).
/// Each set of knocked-out nodes is measured once: methods whose rankings share prefixes share runs.
public final class CircuitAblator {
    /// The analysis whose model and graph are used.
    public let analysis: CircuitAnalysis
    /// How nodes are knocked out.
    public let ablation: CircuitAblation
    /// Mean metric on the clean and on the corrupted prompts.
    public private(set) var cleanMetric = 0.0, corruptedMetric = 0.0

    private var batches: [CircuitBatch] = []
    /// Per batch: the replacement values of every node's hook, by hook name (shapes of the hook for the batch).
    private var replacements: [[String: Tensor]] = []
    private let pairCount: Int
    /// The metric of every set of knocked-out nodes measured so far.
    private var measured: [Set<CircuitNode>: Double] = [:]
    private static let final = "ln_final.hook_normalized"

    /// Prepares the replacement values for `pairs`.
    public init(analysis: CircuitAnalysis, pairs: [TaskExample], ablation: CircuitAblation) throws {
        self.analysis = analysis
        self.ablation = ablation
        pairCount = pairs.count
        guard !pairs.isEmpty else { throw CircuitError.invalidInput(reason: "the task has no prompt pair") }
        let model = analysis.model
        let config = model.config
        let hooks = Set((0..<config.layers).flatMap { ["blocks.\($0).attn.hook_z", "blocks.\($0).hook_mlp_out"] })
        // One batch per prompt length, so means and resamples are taken over every pair of that length.
        batches = try CircuitBatching.batches(pairs, model: model) { _ in Int.max }
        for batch in batches {
            let clean = try model.forward(batch.clean, ForwardRequest(cache: [Self.final], computeLogits: false))
            let corrupted = try model.forward(batch.corrupted, ForwardRequest(cache: hooks.union([Self.final]), computeLogits: false))
            cleanMetric += batch.metrics(finalNormalized: clean.cache[Self.final]!).reduce(0, +)
            corruptedMetric += batch.metrics(finalNormalized: corrupted.cache[Self.final]!).reduce(0, +)
            var values: [String: Tensor] = [:]
            for hook in hooks {
                values[hook] = Self.replacement(corrupted.cache[hook]!, ablation: ablation)
            }
            replacements.append(values)
        }
        cleanMetric /= Double(pairCount)
        corruptedMetric /= Double(pairCount)
    }

    /// What replaces a hook's activation `[B, T, …]` (corrupted values) under `ablation`.
    private static func replacement(_ corrupted: Tensor, ablation: CircuitAblation) -> Tensor {
        let rows = corrupted.shape[0]
        let size = corrupted.count / rows
        var result = Tensor(shape: corrupted.shape)
        switch ablation {
        case .zero:
            break
        case .mean:
            var mean = [Float](repeating: 0, count: size)
            for row in 0..<rows { for i in 0..<size { mean[i] += corrupted.scalars[row * size + i] } }
            for i in 0..<size { mean[i] /= Float(rows) }
            for row in 0..<rows { result.scalars.replaceSubrange((row * size)..<((row + 1) * size), with: mean) }
        case .resample:
            for row in 0..<rows {
                let source = (row + 1) % rows
                result.scalars.replaceSubrange((row * size)..<((row + 1) * size), with: corrupted.scalars[(source * size)..<((source + 1) * size)])
            }
        }
        return result
    }

    /// Mean metric over the pairs with every node of `knockedOut` replaced.
    public func metric(knockingOut knockedOut: Set<CircuitNode>) throws -> Double {
        if let known = measured[knockedOut] { return known }
        let model = analysis.model
        var total = 0.0
        for (index, batch) in batches.enumerated() {
            let interventions = knockedOut.sorted { $0.stage == $1.stage ? ($0.head ?? 0) < ($1.head ?? 0) : $0.stage < $1.stage }.map { node in
                let hook = node.head == nil ? "blocks.\(node.layer).hook_mlp_out" : "blocks.\(node.layer).attn.hook_z"
                return Intervention(hook: hook, action: .replace(replacements[index][hook]!), head: node.head)
            }
            let run = try model.forward(batch.clean, ForwardRequest(cache: [Self.final], interventions: interventions, computeLogits: false))
            total += batch.metrics(finalNormalized: run.cache[Self.final]!).reduce(0, +)
        }
        measured[knockedOut] = total / Double(pairCount)
        return total / Double(pairCount)
    }

    /// `(M − M(corrupted)) / (M(clean) − M(corrupted))`; 0 when clean and corrupted metrics are equal.
    public func normalised(_ metric: Double) -> Double {
        let span = cleanMetric - corruptedMetric
        return span == 0 ? 0 : (metric - corruptedMetric) / span
    }

    /// Normalised metric with only `circuit` kept (everything else knocked out).
    public func faithfulness(keeping circuit: Set<CircuitNode>) throws -> Double {
        normalised(try metric(knockingOut: Set(analysis.graph.nodes).subtracting(circuit)))
    }

    /// Normalised metric with `circuit` itself knocked out (the rest kept).
    public func completeness(of circuit: Set<CircuitNode>) throws -> Double {
        normalised(try metric(knockingOut: circuit))
    }
}
