import LoupeCore
import LoupeModel
import LoupeToyWorld

/// Activation patching of every node: for each node, the clean run with that node's activation
/// (a head's slice of `attn.hook_z`, an MLP's `hook_mlp_out`) replaced at every position by its value
/// on the corrupted prompt, everything downstream recomputed; the score is the change of the metric.
/// Each patched run resumes from the clean run's `hook_resid_pre` of the node's layer.
struct NodePatching {
    let analysis: CircuitAnalysis

    /// Per-pair means of every node's patching effect and of the metrics.
    func scores(_ pairs: [TaskExample], progress: (Int, Int) -> Void) throws -> CircuitScores {
        let model = analysis.model
        let config = model.config
        var scores = CircuitScores(nodes: [Double](repeating: 0, count: analysis.graph.nodes.count))
        let final = "ln_final.hook_normalized"
        let batches = try analysis.batches(pairs, valuesPerToken: config.width * (config.heads + 3 + config.layers))
        let total = batches.count * analysis.graph.nodes.count
        var done = 0
        for batch in batches {
            let activationHooks = Set((0..<config.layers).flatMap { ["blocks.\($0).attn.hook_z", "blocks.\($0).hook_mlp_out"] })
            let residuals = (0..<config.layers).map { "blocks.\($0).hook_resid_pre" }
            let cleanRun = try model.forward(batch.clean, ForwardRequest(cache: Set(residuals + [final]), computeLogits: false))
            let clean = batch.metrics(finalNormalized: cleanRun.cache[final]!)
            let corruptedRun = try model.forward(batch.corrupted, ForwardRequest(cache: activationHooks.union([final]), computeLogits: false))
            scores.clean += clean.reduce(0, +)
            scores.corrupted += batch.metrics(finalNormalized: corruptedRun.cache[final]!).reduce(0, +)
            for (index, node) in analysis.graph.nodes.enumerated() {
                let hook = node.head == nil ? "blocks.\(node.layer).hook_mlp_out" : "blocks.\(node.layer).attn.hook_z"
                let patch = Intervention(hook: hook, action: .patch(corruptedRun.cache), head: node.head)
                let patched = try model.forward(batch.clean, ForwardRequest(
                    cache: [final], interventions: [patch], computeLogits: false,
                    start: (node.layer, cleanRun.cache[residuals[node.layer]]!)))
                let metrics = batch.metrics(finalNormalized: patched.cache[final]!)
                scores.nodes![index] += zip(metrics, clean).reduce(0) { $0 + $1.0 - $1.1 }
                done += 1
                progress(done, total)
            }
        }
        return scores.averaged(over: pairs.count)
    }
}
