import LoupeCore
import LoupeModel
import LoupeToyWorld

/// The gradient methods: attribution patching of nodes, and edge attribution patching (EAP) with
/// plain or integrated gradients (EAP-IG).
///
/// Per batch: the clean and corrupted runs give each sender's output difference
/// `Δs = s(corrupted) − s(clean)` `[B, T, C]` (input: the embeddings; a head: its `hook_result`,
/// `z_h · W_O[h]` without the bias; an MLP: `hook_mlp_out`); one backward pass of the metric from the
/// clean run (EAP-IG: the mean over `igSteps` runs whose embeddings are interpolated from corrupted to
/// clean) gives each receiver's input gradient `g_r` `[B, T, C]`; edge scores are `Σ Δs · g_r`, all of
/// them at once as the product of the `[senders, B·T·C]` and `[receivers, B·T·C]` matrices.
struct GradientAttribution {
    let analysis: CircuitAnalysis
    let method: CircuitMethod

    private static let final = "ln_final.hook_normalized"

    /// Per-pair means of the method's node (attribution) or edge scores and of the metrics.
    func scores(_ pairs: [TaskExample], progress: (Int, Int) -> Void) throws -> CircuitScores {
        let config = analysis.model.config
        let graph = analysis.graph
        let edgeMethod = method != .attribution
        let perToken = edgeMethod ? config.width * (graph.senders.count + graph.receivers.count) : config.width * (config.heads + 2)
        var scores = CircuitScores(
            nodes: edgeMethod ? nil : [Double](repeating: 0, count: graph.nodes.count),
            edges: edgeMethod ? [Double](repeating: 0, count: graph.edges.count) : nil)
        let batches = try analysis.batches(pairs, valuesPerToken: perToken)
        for (index, batch) in batches.enumerated() {
            if edgeMethod {
                try addEdgeScores(batch, to: &scores)
            } else {
                try addNodeScores(batch, to: &scores)
            }
            progress(index + 1, batches.count)
        }
        return scores.averaged(over: pairs.count)
    }

    /// Hook names whose activations a run must keep: `hook_embed` and each layer's `names`.
    private func hooks(_ names: [String]) -> Set<String> {
        Set(["hook_embed", Self.final] + (0..<analysis.model.config.layers).flatMap { layer in names.map { "blocks.\(layer).\($0)" } })
    }

    /// Attribution patching: Σ (a(corrupted) − a(clean)) · ∂M/∂a per node, with a a head's `hook_z` slice or an MLP's `hook_mlp_out`.
    private func addNodeScores(_ batch: CircuitBatch, to scores: inout CircuitScores) throws {
        let model = analysis.model
        let cached = hooks(["attn.hook_z", "hook_mlp_out"])
        let clean = try model.forward(batch.clean, ForwardRequest(cache: cached, computeLogits: false, recordTape: true))
        let corrupted = try model.forward(batch.corrupted, ForwardRequest(cache: cached, computeLogits: false))
        addMetrics(batch, clean: clean, corrupted: corrupted, to: &scores)
        let gradients = try model.componentInputGradients(
            tape: clean.tape!, finalGradient: batch.finalGradient, hooks: cached.subtracting(["hook_embed", Self.final]),
            visit: { _, _ in })
        let (h, d) = (model.config.heads, model.config.headWidth)
        for (index, node) in analysis.graph.nodes.enumerated() {
            let hook = node.head == nil ? "blocks.\(node.layer).hook_mlp_out" : "blocks.\(node.layer).attn.hook_z"
            let (after, before, gradient) = (corrupted.cache[hook]!, clean.cache[hook]!, gradients[hook]!)
            var total = 0.0
            if let head = node.head {
                for row in 0..<(gradient.count / (h * d)) {
                    let base = row * h * d + head * d
                    for i in base..<(base + d) { total += Double((after.scalars[i] - before.scalars[i]) * gradient.scalars[i]) }
                }
            } else {
                for i in 0..<gradient.count { total += Double((after.scalars[i] - before.scalars[i]) * gradient.scalars[i]) }
            }
            scores.nodes![index] += total
        }
    }

    /// EAP and EAP-IG: every edge's Σ Δsender · g_receiver for this batch.
    private func addEdgeScores(_ batch: CircuitBatch, to scores: inout CircuitScores) throws {
        let model = analysis.model
        let graph = analysis.graph
        let cached = hooks(["attn.hook_result", "hook_mlp_out"])
        let gradientRun = method == .eap
        let clean = try model.forward(batch.clean, ForwardRequest(cache: cached, computeLogits: false, recordTape: gradientRun))
        let corrupted = try model.forward(batch.corrupted, ForwardRequest(cache: cached, computeLogits: false))
        addMetrics(batch, clean: clean, corrupted: corrupted, to: &scores)
        let differences = senderDifferences(clean: clean.cache, corrupted: corrupted.cache)

        let size = clean.cache[Self.final]!.count
        var receiverGradients = Tensor(shape: [graph.receivers.count, size])
        let rowOfReceiver = Dictionary(uniqueKeysWithValues: graph.receivers.enumerated().map { ($1, $0) })
        let accumulate = { (input: ComponentInput, gradient: Tensor) in
            let row = rowOfReceiver[input]!
            receiverGradients.scalars.withUnsafeMutableBufferPointer { all in
                gradient.scalars.withUnsafeBufferPointer { g in
                    for i in 0..<size { all[row * size + i] += g[i] }
                }
            }
        }
        if gradientRun {
            _ = try model.componentInputGradients(tape: clean.tape!, finalGradient: batch.finalGradient, visit: accumulate)
        } else {
            let (cleanEmbed, corruptedEmbed) = (clean.cache["hook_embed"]!, corrupted.cache["hook_embed"]!)
            for step in 0..<analysis.igSteps {
                let alpha = Float(step) / Float(analysis.igSteps)
                var embed = corruptedEmbed
                for i in 0..<embed.count { embed.scalars[i] += alpha * (cleanEmbed.scalars[i] - corruptedEmbed.scalars[i]) }
                let run = try model.forward(batch.clean, ForwardRequest(
                    cache: [Self.final], interventions: [Intervention(hook: "hook_embed", action: .replace(embed))],
                    computeLogits: false, recordTape: true))
                _ = try model.componentInputGradients(tape: run.tape!, finalGradient: batch.finalGradient, visit: accumulate)
            }
            receiverGradients.scale(by: 1 / Float(analysis.igSteps))
        }
        let products = try differences.matmulTransposed(receiverGradients)
        let receivers = graph.receivers.count
        for (index, edge) in graph.edges.enumerated() {
            scores.edges![index] += Double(products.scalars[edge.sender * receivers + edge.receiver])
        }
    }

    /// `[senders, B·T·C]`: each sender's output on the corrupted prompts minus on the clean ones.
    private func senderDifferences(clean: ActivationCache, corrupted: ActivationCache) -> Tensor {
        let config = analysis.model.config
        let graph = analysis.graph
        let (h, c) = (config.heads, config.width)
        let size = clean["hook_embed"]!.count
        var differences = Tensor(shape: [graph.senders.count, size])
        for (row, sender) in graph.senders.enumerated() {
            let hook: String
            switch sender {
            case nil: hook = "hook_embed"
            case let node? where node.head == nil: hook = "blocks.\(node.layer).hook_mlp_out"
            case let node?: hook = "blocks.\(node.layer).attn.hook_result"
            }
            let (after, before) = (corrupted[hook]!.scalars, clean[hook]!.scalars)
            if let head = sender?.head {
                for token in 0..<(size / c) {
                    let source = (token * h + head) * c
                    for i in 0..<c { differences.scalars[row * size + token * c + i] = after[source + i] - before[source + i] }
                }
            } else {
                for i in 0..<size { differences.scalars[row * size + i] = after[i] - before[i] }
            }
        }
        return differences
    }

    private func addMetrics(_ batch: CircuitBatch, clean: ForwardResult, corrupted: ForwardResult, to scores: inout CircuitScores) {
        scores.clean += batch.metrics(finalNormalized: clean.cache[Self.final]!).reduce(0, +)
        scores.corrupted += batch.metrics(finalNormalized: corrupted.cache[Self.final]!).reduce(0, +)
    }
}
