import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld
import Testing

@Suite("Circuits: graph")
struct CircuitGraphTests {
    /// Edges of L layers of H heads: each head's q, k, v read `input` and the 1 + l(H + 1) senders of
    /// the layers below; each MLP those plus its own layer's H heads; the logits every sender.
    static func expectedEdgeCount(layers: Int, heads: Int) -> Int {
        var count = 0
        for layer in 0..<layers {
            let below = 1 + layer * (heads + 1)
            count += 3 * heads * below + below + heads
        }
        return count + 1 + layers * (heads + 1)
    }

    @Test(arguments: [(1, 1), (1, 2), (2, 2), (3, 4), (4, 3)])
    func edgeCountFollowsTheFormula(layers: Int, heads: Int) {
        let graph = CircuitGraph(layers: layers, heads: heads)
        #expect(graph.edges.count == Self.expectedEdgeCount(layers: layers, heads: heads))
        #expect(graph.edgeIDs.count == graph.edges.count)
        #expect(Set(graph.edgeIDs).count == graph.edges.count)
        #expect(graph.nodes.count == layers * (heads + 1))
        #expect(graph.senders.count == 1 + layers * (heads + 1))
        #expect(graph.receivers.count == layers * (3 * heads + 1) + 1)
    }

    @Test func theFixtureModelsHaveTheReferenceEdgeCounts() {
        // gpt2-prefixed (3 layers of 4 heads) and gpt2-bare (2 of 2), as in Tests/Fixtures/circuits.
        #expect(CircuitGraph(layers: 3, heads: 4).edges.count == 262)
        #expect(CircuitGraph(layers: 2, heads: 2).edges.count == 46)
    }

    @Test func whichEdgesExist() {
        let ids = Set(CircuitGraph(layers: 2, heads: 2).edgeIDs)
        for present in ["input->a0.h0<q>", "input->a0.h1<k>", "input->a1.h1<v>", "a0.h1->m0", "a0.h0->m0", "m0->a1.h0<k>",
                        "a0.h1->a1.h0<q>", "m1->logits", "a1.h1->logits", "input->logits", "input->m1", "a1.h0->m1"] {
            #expect(ids.contains(present), "\(present)")
        }
        for absent in ["a0.h0->a0.h1<q>", "a0.h1->a0.h0<v>", "a0.h0->a0.h0<q>", "m0->m0", "m0->a0.h0<q>", "a1.h0->m0",
                       "m1->a1.h0<q>", "a1.h0->a1.h1<k>", "m1->m1", "logits->m1", "input->input"] {
            #expect(!ids.contains(absent), "\(absent)")
        }
    }

    @Test func edgesAreOrderedByReceiverThenSender() {
        let graph = CircuitGraph(layers: 1, heads: 2)
        #expect(graph.edgeIDs == [
            "input->a0.h0<q>", "input->a0.h0<k>", "input->a0.h0<v>",
            "input->a0.h1<q>", "input->a0.h1<k>", "input->a0.h1<v>",
            "input->m0", "a0.h0->m0", "a0.h1->m0",
            "input->logits", "a0.h0->logits", "a0.h1->logits", "m0->logits",
        ])
        // And in general: receivers in forward order, each one's senders in forward order.
        let big = CircuitGraph(layers: 3, heads: 4)
        for (earlier, later) in zip(big.edges, big.edges.dropFirst()) {
            #expect(earlier.receiver < later.receiver || (earlier.receiver == later.receiver && earlier.sender < later.sender))
        }
        #expect(big.nodes.map(\.id).prefix(6) == ["a0.h0", "a0.h1", "a0.h2", "a0.h3", "m0", "a1.h0"])
        #expect(CircuitGraph.id(ofReceiver: big.receivers.last!) == "logits")
    }
}

@Suite("Circuits: ROC")
struct ROCTests {
    @Test func perfectReversedAndTiedScores() {
        #expect(ROC.auc(scores: [0.9, 0.8, 0.1, 0.2], labels: [true, true, false, false]) == 1)
        #expect(ROC.auc(scores: [0.1, 0.2, 0.9, 0.8], labels: [true, true, false, false]) == 0)
        // Every score equal: each positive–negative pair is a tie worth one half.
        #expect(ROC.auc(scores: [3, 3, 3, 3, 3], labels: [true, false, false, true, false]) == 0.5)
        // Pairs (positive, negative): 5>1, 5>3, 3=3 (½), 3>1 → 3.5 of 4.
        #expect(ROC.auc(scores: [5, 3, 3, 1], labels: [true, true, false, false]) == 0.875)
        // 2 positives × 3 negatives: 0.7 beats 0.4 and 0.3; 0.4 ties 0.4 and beats 0.3 → (2 + 1.5) / 6.
        #expect(ROC.auc(scores: [0.7, 0.4, 0.4, 0.3, 0.9], labels: [true, true, false, false, false]) == 3.5 / 6)
    }

    @Test func oneEmptyClassHasNoArea() {
        #expect(ROC.auc(scores: [1, 2, 3], labels: [true, true, true]) == nil)
        #expect(ROC.auc(scores: [1, 2, 3], labels: [false, false, false]) == nil)
        #expect(ROC.auc(scores: [], labels: []) == nil)
        #expect(ROC.curve(scores: [1, 2], labels: [true, true]).isEmpty)
        #expect(ROC.curve(scores: [1, 2], labels: [false, false]).isEmpty)
    }

    @Test func curveRunsFromTheOriginToOneOneWithAPointPerDistinctScore() {
        let curve = ROC.curve(scores: [0.9, 0.5, 0.5, 0.1], labels: [true, false, true, false])
        #expect(curve.count == 4)
        #expect(curve.first! == (0, 0))
        #expect(curve.last! == (1, 1))
        #expect(curve[1] == (0, 0.5))
        #expect(curve[2] == (0.5, 1))
        // The trapezoids under the curve make the AUC.
        var area = 0.0
        for (a, b) in zip(curve, curve.dropFirst()) {
            area += (b.falsePositiveRate - a.falsePositiveRate) * (a.truePositiveRate + b.truePositiveRate) / 2
        }
        #expect(abs(area - ROC.auc(scores: [0.9, 0.5, 0.5, 0.1], labels: [true, false, true, false])!) <= 1e-12)
        let perfect = ROC.curve(scores: [3, 2, 1], labels: [true, false, false])
        #expect(perfect.count == 4)
        #expect(perfect.first! == (0, 0) && perfect[1] == (0, 1) && perfect.last! == (1, 1))
    }
}

/// Pairs of several lengths are grouped and batched; the scores must not depend on how.
@Suite("Circuits: batching")
struct CircuitBatchingTests {
    /// `count` random pairs of `length` ids on the gpt2-prefixed vocabulary (400): the corrupted
    /// prompt differs from the clean one at one position.
    static func pairs(count: Int, length: Int, rng: inout SeededRandom) -> [TaskExample] {
        (0..<count).map { _ in
            let clean = (0..<length).map { _ in 1 + rng.nextInt(below: 399) }
            var corrupted = clean
            let position = 1 + rng.nextInt(below: length - 2)
            corrupted[position] = 1 + (clean[position] + rng.nextInt(below: 397)) % 399
            let correct = 1 + rng.nextInt(below: 399)
            return TaskExample(clean: clean, corrupted: corrupted, correct: [correct], wrong: [1 + correct % 399])
        }
    }

    @Test(arguments: [CircuitMethod.patching, .attribution, .eap, .eapIG])
    func mixedLengthsScoreAsTheCountWeightedMeanOfEachLength(method: CircuitMethod) throws {
        let model = try CircuitReference("gpt2-prefixed").loadModel()
        var rng = SeededRandom(seed: 21)
        let short = Self.pairs(count: 2, length: 5, rng: &rng)
        let long = Self.pairs(count: 3, length: 7, rng: &rng)
        let mixed = [long[0], short[0], long[1], short[1], long[2]]
        let analysis = CircuitAnalysis(model: model, igSteps: 3)
        let shortResult = try analysis.run(method, task: "short", pairs: short)
        let longResult = try analysis.run(method, task: "long", pairs: long)
        var oneRowBatches = analysis
        oneRowBatches.batchBudget = 1
        for (name, runner) in [("default", analysis), ("one row per batch", oneRowBatches)] {
            let result = try runner.run(method, task: "mixed", pairs: mixed)
            #expect(result.pairs == 5)
            func weighted(_ a: Double, _ b: Double) -> Double { (2 * a + 3 * b) / 5 }
            #expect(abs(result.cleanMetric - weighted(shortResult.cleanMetric, longResult.cleanMetric)) <= 1e-5, "\(name)")
            #expect(abs(result.corruptedMetric - weighted(shortResult.corruptedMetric, longResult.corruptedMetric)) <= 1e-5, "\(name)")
            #expect(result.nodes.count == 15)
            if !method.scoresEdges {
                for (index, node) in result.nodes.enumerated() {
                    let expected = weighted(shortResult.nodes[index].score, longResult.nodes[index].score)
                    #expect(abs(node.score - expected) <= 1e-5, "\(name) \(node.id): \(node.score) vs \(expected)")
                }
            }
            #expect(result.edges.map(\.id) == (method.scoresEdges ? analysis.graph.edgeIDs : []))
            for (index, edge) in result.edges.enumerated() {
                let expected = weighted(shortResult.edges[index].score, longResult.edges[index].score)
                #expect(abs(edge.score - expected) <= 1e-5, "\(name) \(edge.id): \(edge.score) vs \(expected)")
            }
        }
        // The two lengths really score differently, so a wrong weighting would show.
        let gap = zip(shortResult.nodes, longResult.nodes).map { abs($0.score - $1.score) }.max()!
        #expect(gap > 1e-2)
    }
}
