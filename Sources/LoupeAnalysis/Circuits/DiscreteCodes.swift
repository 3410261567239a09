import Foundation
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// O'Neill & Bui's discrete dictionary codes (2024): one small ReLU dictionary over every head's
/// output, each (prompt, head) reduced to the index of its most active feature.
///
/// Each prompt's head outputs (`attn.hook_result`, averaged over positions) are `L·H` vectors `[C]`.
/// The clean prompts are the positives (the task's mechanism at work), the corrupted ones the
/// negatives (the same template with the mechanism removed). A dictionary of `features` features —
/// ReLU, a tied pre-bias, unit-norm decoder rows, loss MSE + λ·mean L1 — is trained full-batch with
/// Adam on `trainingPrompts` prompts drawn from both; then every prompt's heads get their codes.
/// A head's score is the number of codes it shows on positives and never on negatives, softmaxed over
/// heads (MLPs score 0); an edge between heads of different layers scores the number of code pairs
/// the two heads show together on positives and never on negatives (the same for the receiver's
/// query, key and value; edges from the input or MLPs and into MLPs or the logits score 0).
struct DiscreteCodes {
    let analysis: CircuitAnalysis
    var features = 200
    var sparsity: Float = 0.02
    var steps = 500
    var learningRate: Float = 1e-3
    var trainingPrompts = 10

    /// Head scores (softmax of codes unique to positives) and head-to-head edge scores.
    func scores(_ pairs: [TaskExample]) throws -> CircuitScores {
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
        try dictionary.train(rows: training, sparsity: sparsity, steps: steps, learningRate: learningRate)
        let positiveCodes = try heads.positives.map { try dictionary.codes(of: $0) }
        let negativeCodes = try heads.negatives.map { try dictionary.codes(of: $0) }

        let headCount = graph.layers * graph.heads
        var unique = [Double](repeating: 0, count: headCount)
        for head in 0..<headCount {
            let negative = Set(negativeCodes.map { $0[head] })
            unique[head] = Double(Set(positiveCodes.map { $0[head] }).subtracting(negative).count)
        }
        let largest = unique.max() ?? 0
        let exponentials = unique.map { Foundation.exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        var direct = [Double](repeating: 0, count: graph.nodes.count)
        for (index, node) in graph.nodes.enumerated() {
            if let head = node.head { direct[index] = exponentials[node.layer * graph.heads + head] / total }
        }
        scores.nodes = direct

        var edges = [Double](repeating: 0, count: graph.edges.count)
        for (index, edge) in graph.edges.enumerated() {
            guard let sender = graph.senders[edge.sender], let senderHead = sender.head else { continue }
            let receiverHead: Int
            switch graph.receivers[edge.receiver] {
            case let .query(layer, head), let .key(layer, head), let .value(layer, head): receiverHead = layer * graph.heads + head
            default: continue
            }
            let from = sender.layer * graph.heads + senderHead
            let negative = Set(negativeCodes.map { CodePair(first: $0[from], second: $0[receiverHead]) })
            let positive = Set(positiveCodes.map { CodePair(first: $0[from], second: $0[receiverHead]) })
            edges[index] = Double(positive.subtracting(negative).count)
        }
        scores.edges = edges
        return scores
    }

    /// Two heads' codes on one prompt.
    private struct CodePair: Hashable {
        var first: Int
        var second: Int
    }

    /// Each prompt's head outputs averaged over positions (`[L·H]` rows of `[C]`, heads in layer
    /// order), positives from the clean prompts and negatives from the corrupted ones, and the summed
    /// metrics of both.
    private func headOutputs(_ pairs: [TaskExample]) throws -> (heads: (positives: [[[Float]]], negatives: [[[Float]]]), metrics: (clean: Double, corrupted: Double)) {
        let model = analysis.model
        let config = model.config
        let (h, c) = (config.heads, config.width)
        let final = "ln_final.hook_normalized"
        let hooks = Set((0..<config.layers).map { "blocks.\($0).attn.hook_result" } + [final])
        var positives: [[[Float]]] = []
        var negatives: [[[Float]]] = []
        var metrics = (clean: 0.0, corrupted: 0.0)
        for batch in try analysis.batches(pairs, valuesPerToken: config.layers * h * c) {
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
                            var mean = [Float](repeating: 0, count: c)
                            for token in 0..<t {
                                let base = ((row * t + token) * h + head) * c
                                for i in 0..<c { mean[i] += result[base + i] }
                            }
                            vectors.append(mean.map { $0 / Float(t) })
                        }
                    }
                    if isClean { positives.append(vectors) } else { negatives.append(vectors) }
                }
            }
        }
        return ((positives, negatives), metrics)
    }
}
