import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeModel
import LoupeToyWorld
import Testing

/// `CircuitSelection` on the single-head model with zero ablation, where the faithfulness of any
/// set of nodes is known: 1 when it holds a1.h0, ½ when it does not (see `CircuitAblationTests`).
@Suite("Circuits: selection")
struct CircuitSelectionTests {
    typealias Known = CircuitKnownAnswerTests

    /// Hand-set scores: |a0.h1| = |a1.h0| = 0.5 (a tie, broken by forward order), |a0.h0| = |m1| = 0.3,
    /// m0 0.1, and a1.h1 left out (score 0).
    static let scores: [(String, Double)] = [("a0.h0", 0.3), ("a0.h1", -0.5), ("m0", 0.1), ("a1.h0", 0.5), ("m1", -0.3)]
    /// The ranking those scores give.
    static let ranking = ["a0.h1", "a1.h0", "a0.h0", "m1", "m0", "a1.h1"]

    static func result(_ scores: [(String, Double)] = scores) -> CircuitMethodResult {
        CircuitMethodResult(
            task: "known", method: "hand", pairs: Known.pairs.count, cleanMetric: 0, corruptedMetric: 0,
            nodes: scores.map { id, score in
                CircuitNodeScore(id: id, layer: Int(String(id.dropFirst().prefix(1)))!, head: id.hasPrefix("a") ? Int(String(id.last!)) : nil, score: score)
            },
            edges: [], seconds: 0)
    }

    static func ablator() throws -> CircuitAblator {
        try CircuitAblator(analysis: CircuitAnalysis(model: try Known.singleHeadModel()), pairs: Known.pairs, ablation: .zero)
    }

    static let tolerance = 1e-6

    @Test func theCurveHasOnePointPerPrefixOfTheRanking() throws {
        let ablator = try Self.ablator()
        let selection = try CircuitSelection(result: Self.result(), ablator: ablator, size: .top(6))
        #expect(selection.circuit.map(\.id) == Self.ranking)
        #expect(selection.curve.count == ablator.analysis.graph.nodes.count + 1)
        #expect(abs(selection.curve[0] - (try ablator.faithfulness(keeping: []))) <= 1e-12)
        #expect(abs(selection.curve[6] - 1) <= 1e-9)
        // a1.h0 comes second (after a0.h1, its equal by |score| and earlier in forward order).
        let expected = [0.5, 0.5, 1, 1, 1, 1, 1]
        for (point, value) in zip(selection.curve, expected) { #expect(abs(point - value) <= Self.tolerance, "\(selection.curve)") }
        #expect(abs(selection.faithfulness - 1) <= Self.tolerance)
        #expect(abs(selection.completeness - 0.5) <= Self.tolerance)
    }

    @Test func aStrictlyLargestScoreComesFirst() throws {
        let ablator = try Self.ablator()
        let selection = try CircuitSelection(result: Self.result([("a1.h0", -0.6), ("a0.h1", 0.5)]), ablator: ablator, size: .top(1))
        #expect(selection.circuit.map(\.id) == ["a1.h0"])
        let expected = [0.5, 1, 1, 1, 1, 1, 1]
        for (point, value) in zip(selection.curve, expected) { #expect(abs(point - value) <= Self.tolerance, "\(selection.curve)") }
        #expect(abs(selection.completeness - 0.5) <= Self.tolerance)
    }

    @Test(arguments: [-1, 0, 1, 2, 3, 6, 7])
    func topPicksThatManyOfTheLargestScores(count: Int) throws {
        let selection = try CircuitSelection(result: Self.result(), ablator: try Self.ablator(), size: .top(count))
        let n = min(max(count, 0), 6)
        #expect(selection.circuit.map(\.id) == Array(Self.ranking.prefix(n)))
        #expect(selection.faithfulness == selection.curve[n])
        // Knocking out the circuit costs half the metric exactly when it holds a1.h0.
        #expect(abs(selection.completeness - (n >= 2 ? 0.5 : 1)) <= Self.tolerance)
    }

    @Test(arguments: [(0.0, 6), (0.1, 5), (0.3, 4), (0.31, 2), (0.5, 2), (0.51, 0)])
    func thresholdKeepsTheScoresAtLeastThatLarge(threshold: Double, count: Int) throws {
        let selection = try CircuitSelection(result: Self.result(), ablator: try Self.ablator(), size: .threshold(threshold))
        #expect(selection.circuit.map(\.id) == Array(Self.ranking.prefix(count)))
        #expect(selection.faithfulness == selection.curve[count])
    }

    /// The first n with curve[n] ≥ target; every node when no point reaches it.
    @Test(arguments: [(0.4, 0), (0.5, 0), (0.51, 2), (0.8, 2), (1.0, 2), (1.5, 6)])
    func smallestReachingTakesTheFirstPrefixAtTheTarget(target: Double, count: Int) throws {
        let selection = try CircuitSelection(result: Self.result(), ablator: try Self.ablator(), size: .smallestReaching(target: target))
        #expect(selection.circuit.map(\.id) == Array(Self.ranking.prefix(count)))
        #expect(selection.faithfulness == selection.curve[count])
        if count < 6 { #expect(selection.faithfulness >= target) }
        #expect(selection.curve.prefix(count).allSatisfy { $0 < target })
    }
}
