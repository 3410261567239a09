import LoupeFindings

/// Hand-made circuit findings for the site tests: a model of 2 layers × 2 heads, two tasks scored by
/// `patching` (nodes only) and `eap` (nodes and edges), the first with a known circuit, and hostile
/// strings in prompt tokens, answers, task names, method names and the ground truth's source.
enum CircuitFixtures {
    static let layers = 2, heads = 2

    /// Every node in forward order: per layer its heads, then its MLP.
    static var nodeIDs: [String] {
        (0..<layers).flatMap { layer in (0..<heads).map { "a\(layer).h\($0)" } + ["m\(layer)"] }
    }

    /// Every edge of the graph: `input` and earlier nodes into each head's q/k/v, each MLP and the logits.
    static var edgeEnds: [(sender: String, receiver: String)] {
        var receivers: [(id: String, stage: Int)] = []
        for layer in 0..<layers {
            for head in 0..<heads { receivers += ["q", "k", "v"].map { ("a\(layer).h\(head)<\($0)>", 2 * layer + 1) } }
            receivers.append(("m\(layer)", 2 * layer + 2))
        }
        receivers.append(("logits", 2 * layers + 1))
        var senders: [(id: String, stage: Int)] = [("input", 0)]
        for layer in 0..<layers {
            for head in 0..<heads { senders.append(("a\(layer).h\(head)", 2 * layer + 1)) }
            senders.append(("m\(layer)", 2 * layer + 2))
        }
        return receivers.flatMap { receiver in senders.filter { $0.stage < receiver.stage }.map { ($0.id, receiver.id) } }
    }

    static func nodes(_ scores: [Double]) -> [CircuitNodeScore] {
        zip(nodeIDs, scores).map { id, score in
            let layer = Int(String(id.dropFirst().prefix { $0.isNumber }))!
            let head = id.hasPrefix("a") ? Int(String(id.split(separator: "h").last!))! : nil
            return CircuitNodeScore(id: id, layer: layer, head: head, score: score)
        }
    }

    static func method(_ name: String, scores: [Double], edges: Bool, circuit: [String], nodeAUC: Double?, edgeAUC: Double?) -> CircuitMethodFindings {
        let edgeScores = edges ? edgeEnds.enumerated().map { i, end in
            CircuitEdgeScore(id: "\(end.sender)->\(end.receiver)", sender: end.sender, receiver: end.receiver,
                             score: (i % 3 == 0 ? -1 : 1) * Double((i * 37) % 23 + 1) / 10)
        } : []
        return CircuitMethodFindings(
            method: name, nodes: nodes(scores), edges: edgeScores,
            passes: CircuitPasses(forward: edges ? 48 : 312, backward: edges ? 24 : 0),
            faithfulness: [0, 0.41, 0.78, 0.93, 0.96, 1.02, 1], circuitSize: circuit.count, circuit: circuit,
            circuitFaithfulness: 0.93, circuitCompleteness: 0.08, nodeAUC: nodeAUC, edgeAUC: edgeAUC,
            roc: nodeAUC == nil ? [] : [[0, 0], [0, 0.5], [0.25, 1], [1, 1]])
    }

    static let hostilePrompt = CircuitPrompt(
        clean: ["When", " Mary", " and", " John", "<script>alert(1)</script>", "\"onerror=", " {{x}}", " gave"],
        corrupted: ["When", " Anna", " and", " John", "<script>alert(1)</script>", "\"onerror=", " {{x}}", " gave"],
        answers: [" Mary<img src=x>"], wrongAnswers: [" John", "{{{triple}}}"])

    static func pattern(_ length: Int, shift: Int) -> [[Double]] {
        (0..<length).map { (query: Int) -> [Double] in
            let focus = max(0, query - shift)
            let rest: Double = query == 0 ? 0.25 : 0.25 / Double(query)
            return (0..<length).map { (key: Int) -> Double in key > query ? 0 : (key == focus ? 0.75 : rest) }
        }
    }

    static func heads(promptLength: Int) -> [CircuitHeadFindings] {
        (0..<layers).flatMap { layer in
            (0..<heads).map { head in
                CircuitHeadFindings(
                    id: "a\(layer).h\(head)", layer: layer, head: head,
                    patterns: [pattern(promptLength, shift: layer + head)],
                    features: layer == 1 && head == 0 ? [
                        CircuitHeadFeature(dictionary: "blocks.1.hook_resid_post-topk", feature: 3, weight: 1.25),
                        CircuitHeadFeature(dictionary: "blocks.1.hook_resid_post-topk", feature: 999, weight: -0.5),
                        CircuitHeadFeature(dictionary: "absent<script>", feature: 1, weight: 0.25),
                    ] : [])
            }
        }
    }

    /// Two tasks: `ioi` with a known circuit (mean ablation), and one with a hostile name, slug with a
    /// space and no known circuit (resample ablation).
    static var findings: CircuitFindings {
        let ioi = CircuitTaskFindings(
            task: "ioi", slug: "ioi", pairs: 24, cleanMetric: 3.25, corruptedMetric: -1.5, ablation: .mean,
            prompts: [hostilePrompt, CircuitPrompt(clean: ["A", " b"], corrupted: ["A", " c", " d"], answers: [" b"], wrongAnswers: [" c"])],
            methods: [
                method("patching", scores: [0.02, 0.61, -0.05, 0.44, -0.12, 0.30], edges: false, circuit: ["a0.h1", "a1.h0", "m1"], nodeAUC: 0.95, edgeAUC: nil),
                method("eap", scores: [0.10, 0.52, 0.07, 0.39, 0.01, 0.25], edges: true, circuit: ["a0.h1", "a1.h0"], nodeAUC: 0.9, edgeAUC: 0.85),
            ],
            groundTruth: CircuitTruthFindings(
                nodes: ["a0.h1", "a1.h0"], edges: ["a0.h1->a1.h0<k>", "a1.h0->logits"], faithfulness: 0.91, completeness: 0.06,
                drops: [CircuitNodeDrop(id: "a0.h1", drop: 0.42), CircuitNodeDrop(id: "a1.h0", drop: 0.37)],
                source: "loupe circuit --task ioi <script>alert(5)</script>"),
            heads: heads(promptLength: hostilePrompt.clean.count))
        let other = CircuitTaskFindings(
            task: "greater than <b>{{x}}</b>", slug: "greater than", pairs: 1, cleanMetric: 1.5, corruptedMetric: 0.25, ablation: .resample,
            prompts: [hostilePrompt],
            methods: [
                method("patching", scores: [0.3, 0.0, 0.1, 0.2, -0.4, 0.05], edges: false, circuit: ["a1.h1"], nodeAUC: nil, edgeAUC: nil),
                method("eap", scores: [0.2, 0.1, 0.1, 0.1, 0.3, 0.02], edges: true, circuit: ["a1.h1", "a0.h0"], nodeAUC: nil, edgeAUC: nil),
            ],
            groundTruth: nil,
            heads: heads(promptLength: hostilePrompt.clean.count))
        return CircuitFindings(tasks: [ioi, other])
    }
}
