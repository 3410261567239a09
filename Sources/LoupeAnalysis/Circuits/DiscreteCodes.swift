import Foundation
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// O'Neill & Bui's discrete dictionary codes (2024): one small ReLU dictionary over every component's
/// output, each (prompt, component) reduced to the index of its most active feature.
///
/// Each prompt's component outputs — every head's `attn.hook_result` and, beyond the original method
/// (which looks at heads only), every MLP's `hook_mlp_out`, averaged over positions — are `N` vectors
/// `[C]`, one per node of the graph. The clean prompts are the positives (the task's mechanism at
/// work), the corrupted ones the negatives (the same template with the mechanism removed). A
/// dictionary of `features` features — ReLU, a tied pre-bias, unit-norm decoder rows, loss
/// MSE + λ·mean L1 — is trained full-batch with Adam on `trainingPrompts` prompts drawn from both;
/// then every prompt's components get their codes. A node's score is the number of codes it shows on
/// positives and never on negatives, softmaxed over nodes; an edge from node a to a receiver of node
/// b scores the number of code pairs (a, b) seen together on positives and never on negatives (the
/// same for a head's query, key and value; edges from the input and into the logits score 0).
struct DiscreteCodes {
    let analysis: CircuitAnalysis
    var features = 200
    var sparsity: Float = 0.02
    var steps = 500
    var learningRate: Float = 1e-3
    var trainingPrompts = 10

    /// Head scores (softmax of codes unique to positives) and head-to-head edge scores.
    func scores(_ pairs: [TaskExample], progress: (Int, Int) -> Void) throws -> CircuitScores {
        let graph = analysis.graph
        let (heads, metrics) = try headOutputs(pairs)
        let count = Double(pairs.count)
        var scores = CircuitScores(clean: metrics.clean / count, corrupted: metrics.corrupted / count)
        var rng = SeededRandom(seed: analysis.seed)
        let prompts = heads.positives + heads.negatives
        var order = Array(prompts.indices)
        for i in order.indices.dropLast() { order.swapAt(i, i + rng.nextInt(below: order.count - i)) }
        let training = order.prefix(trainingPrompts).flatMap { prompts[$0] }
        var dictionary = CodeDictionary(width: analysis.model.config.width, features: features, rng: &rng)
        try dictionary.train(rows: training, sparsity: sparsity, steps: steps, learningRate: learningRate) { progress($0, steps) }
        let positiveCodes = try heads.positives.map { try dictionary.codes(of: $0) }
        let negativeCodes = try heads.negatives.map { try dictionary.codes(of: $0) }

        let unique = graph.nodes.indices.map { node in
            Double(Set(positiveCodes.map { $0[node] }).subtracting(negativeCodes.map { $0[node] }).count)
        }
        let largest = unique.max() ?? 0
        let exponentials = unique.map { Foundation.exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        scores.nodes = exponentials.map { $0 / total }

        var edges = [Double](repeating: 0, count: graph.edges.count)
        for (index, edge) in graph.edges.enumerated() {
            guard edge.sender > 0, let to = nodeIndex(of: graph.receivers[edge.receiver]) else { continue }
            let from = edge.sender - 1
            let negative = Set(negativeCodes.map { CodePair(first: $0[from], second: $0[to]) })
            let positive = Set(positiveCodes.map { CodePair(first: $0[from], second: $0[to]) })
            edges[index] = Double(positive.subtracting(negative).count)
        }
        scores.edges = edges
        return scores
    }

    /// The index in `graph.nodes` of the node a receiver belongs to (`nil` for the logits).
    private func nodeIndex(of receiver: ComponentInput) -> Int? {
        let graph = analysis.graph
        switch receiver {
        case let .query(layer, head), let .key(layer, head), let .value(layer, head): return layer * (graph.heads + 1) + head
        case let .mlp(layer): return layer * (graph.heads + 1) + graph.heads
        case .unembedding: return nil
        }
    }

    /// Two components' codes on one prompt.
    private struct CodePair: Hashable {
        var first: Int
        var second: Int
    }

    /// Each prompt's component outputs averaged over positions (one `[C]` row per node, in the
    /// order of `graph.nodes`), positives from the clean prompts and negatives from the corrupted ones, and the summed
    /// metrics of both.
    private func headOutputs(_ pairs: [TaskExample]) throws -> (heads: (positives: [[[Float]]], negatives: [[[Float]]]), metrics: (clean: Double, corrupted: Double)) {
        let model = analysis.model
        let config = model.config
        let (h, c) = (config.heads, config.width)
        let final = "ln_final.hook_normalized"
        let hooks = Set((0..<config.layers).flatMap { ["blocks.\($0).attn.hook_result", "blocks.\($0).hook_mlp_out"] } + [final])
        var positives: [[[Float]]] = []
        var negatives: [[[Float]]] = []
        var metrics = (clean: 0.0, corrupted: 0.0)
        for batch in try analysis.batches(pairs, valuesPerToken: config.layers * (h + 1) * c) {
            for (prompts, isClean) in [(batch.clean, true), (batch.corrupted, false)] {
                let run = try model.forward(prompts, ForwardRequest(cache: hooks, computeLogits: false))
                let total = batch.metrics(finalNormalized: run.cache[final]!).reduce(0, +)
                if isClean { metrics.clean += total } else { metrics.corrupted += total }
                let t = batch.length
                for row in 0..<prompts.count {
                    var vectors: [[Float]] = []
                    for layer in 0..<config.layers {
                        let result = run.cache["blocks.\(layer).attn.hook_result"]!.scalars
                        for head in 0..<h {
                            vectors.append(Self.meanOverPositions(result, row: row, tokens: t, stride: h * c, offset: head * c, width: c))
                        }
                        let mlp = run.cache["blocks.\(layer).hook_mlp_out"]!.scalars
                        vectors.append(Self.meanOverPositions(mlp, row: row, tokens: t, stride: c, offset: 0, width: c))
                    }
                    if isClean { positives.append(vectors) } else { negatives.append(vectors) }
                }
            }
        }
        return ((positives, negatives), metrics)
    }

    /// The mean over the `tokens` positions of prompt `row` of the `width` values at `offset` in each
    /// position's block of `stride` values.
    private static func meanOverPositions(_ values: [Float], row: Int, tokens: Int, stride: Int, offset: Int, width: Int) -> [Float] {
        var mean = [Float](repeating: 0, count: width)
        for token in 0..<tokens {
            let base = (row * tokens + token) * stride + offset
            for i in 0..<width { mean[i] += values[base + i] }
        }
        return mean.map { $0 / Float(tokens) }
    }
}
