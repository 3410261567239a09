import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld
import Testing

/// `CircuitAblator`: knocking nodes out by mean, resample and zero ablation, checked on the hand-set
/// single-head model (where the result follows from the construction) and against a forward pass
/// with the replacement values computed here.
@Suite("Circuits: ablation")
struct CircuitAblationTests {
    typealias Known = CircuitKnownAnswerTests

    /// The nodes of `analysis`'s graph with these ids.
    static func nodes(_ ids: [String], in analysis: CircuitAnalysis) -> Set<CircuitNode> {
        let wanted = Set(ids)
        let found = Set(analysis.graph.nodes.filter { wanted.contains($0.id) })
        precondition(found.count == wanted.count, "unknown node in \(ids)")
        return found
    }

    /// A 2-layer, 2-head, width-8 model with every weight drawn at scale 0.5 (layer-norm weights
    /// around 1), so that every node changes the metric.
    static func randomModel() -> GPT2Model {
        let config = GPT2Config(vocabularySize: 12, contextLength: 8, width: 8, heads: 2, layers: 2, mlpWidth: 16)
        let base = GPT2Weights.random(config: config, seed: 21)
        var rng = SeededRandom(seed: 22)
        var named: [String: Tensor] = [:]
        for (name, tensor) in base.named {
            var t = tensor
            for i in 0..<t.count { t.scalars[i] = (name.contains("ln_") && name.hasSuffix("weight") ? 1 : 0) + 0.5 * rng.nextNormal() }
            named[name] = t
        }
        return GPT2Model(config: config, weights: GPT2Weights.withNamed(named, like: base))
    }

    /// Three pairs of length 5 for the random model; each pair's prompts end in the same token.
    static let sameLengthPairs = [
        TaskExample(clean: [1, 4, 2, 9, 3], corrupted: [1, 7, 2, 9, 3], correct: [5], wrong: [8]),
        TaskExample(clean: [6, 0, 5, 10, 2], corrupted: [6, 0, 3, 11, 2], correct: [1], wrong: [4]),
        TaskExample(clean: [2, 2, 8, 7, 11], corrupted: [2, 6, 8, 1, 11], correct: [9], wrong: [0]),
    ]

    /// One pair of each length (3, 4, 5, 6), each pair's prompts ending in the same token.
    static let onePairPerLength = [
        TaskExample(clean: [3, 1, 4], corrupted: [3, 8, 4], correct: [2], wrong: [7]),
        TaskExample(clean: [5, 9, 2, 6], corrupted: [11, 9, 0, 6], correct: [10], wrong: [1]),
        TaskExample(clean: [1, 4, 2, 9, 3], corrupted: [1, 7, 2, 9, 3], correct: [5], wrong: [8]),
        TaskExample(clean: [0, 5, 7, 3, 8, 4], corrupted: [0, 5, 1, 3, 2, 4], correct: [6], wrong: [9]),
    ]

    /// Mean over `pairs` of logit[T−1, correct] − logit[T−1, wrong], from a full forward pass with `interventions`.
    static func logitDifference(_ model: GPT2Model, _ prompts: [[Int]], _ pairs: [TaskExample], interventions: [Intervention] = []) throws -> Double {
        let run = try model.forward(prompts, ForwardRequest(interventions: interventions))
        let logits = try #require(run.logits)
        let (t, v) = (prompts[0].count, model.config.vocabularySize)
        return pairs.enumerated().map { row, pair in
            let base = (row * t + t - 1) * v
            return Double(logits.scalars[base + pair.correct[0]]) - Double(logits.scalars[base + pair.wrong[0]])
        }.reduce(0, +) / Double(pairs.count)
    }

    // MARK: - Nothing knocked out

    @Test(arguments: CircuitAblation.allCases)
    func knockingOutNothingKeepsTheCleanMetric(ablation: CircuitAblation) throws {
        for (model, pairs) in [(Self.randomModel(), Self.sameLengthPairs + Self.onePairPerLength), (try Known.singleHeadModel(), Known.pairs)] {
            let analysis = CircuitAnalysis(model: model)
            let ablator = try CircuitAblator(analysis: analysis, pairs: pairs, ablation: ablation)
            #expect(abs(ablator.cleanMetric - ablator.corruptedMetric) > 0.05)
            #expect(abs(try ablator.metric(knockingOut: []) - ablator.cleanMetric) <= 1e-9)
            #expect(abs(try ablator.faithfulness(keeping: Set(analysis.graph.nodes)) - 1) <= 1e-9)
            #expect(abs(try ablator.completeness(of: []) - 1) <= 1e-9)
            #expect(abs(ablator.normalised(ablator.cleanMetric) - 1) <= 1e-12)
            #expect(abs(ablator.normalised(ablator.corruptedMetric)) <= 1e-12)
            // The clean and corrupted metrics are those of plain forward passes.
            let cleanByLength = Dictionary(grouping: pairs, by: \.clean.count)
            var clean = 0.0, corrupted = 0.0
            for (_, group) in cleanByLength {
                clean += try Self.logitDifference(model, group.map(\.clean), group) * Double(group.count)
                corrupted += try Self.logitDifference(model, group.map(\.corrupted), group) * Double(group.count)
            }
            #expect(abs(ablator.cleanMetric - clean / Double(pairs.count)) <= 1e-4)
            #expect(abs(ablator.corruptedMetric - corrupted / Double(pairs.count)) <= 1e-4)
        }
    }

    @Test func anEmptyTaskIsAnError() throws {
        #expect(throws: CircuitError.self) {
            _ = try CircuitAblator(analysis: CircuitAnalysis(model: Self.randomModel()), pairs: [], ablation: .mean)
        }
    }

    // MARK: - The single-head model

    /// Zero ablation: a knocked-out a1.h0 writes nothing (its output bias is zero), leaving the last
    /// position's residual at b, orthogonal to the answer direction 2c: the metric is exactly 0,
    /// halfway between clean (+M) and corrupted (−M). Every other node writes zero whatever it computes.
    @Test func zeroAblationOfTheWritingHeadHalvesTheNormalisedMetric() throws {
        let analysis = CircuitAnalysis(model: try Known.singleHeadModel())
        let ablator = try CircuitAblator(analysis: analysis, pairs: Known.pairs, ablation: .zero)
        let clean = Known.mean { Known.metric(3 / $0) }
        #expect(abs(ablator.cleanMetric - clean) <= Known.tolerance)
        #expect(abs(ablator.corruptedMetric + clean) <= Known.tolerance)
        let writer = Self.nodes(["a1.h0"], in: analysis)
        for node in analysis.graph.nodes where node.id != "a1.h0" {
            #expect(abs(try ablator.metric(knockingOut: [node]) - ablator.cleanMetric) <= 1e-5, "\(node.id)")
        }
        let others = Set(analysis.graph.nodes).subtracting(writer)
        #expect(abs(try ablator.metric(knockingOut: others) - ablator.cleanMetric) <= 1e-5)
        #expect(abs(try ablator.metric(knockingOut: writer)) <= 1e-5)
        #expect(abs(try ablator.completeness(of: writer) - 0.5) <= 1e-6)
        #expect(abs(try ablator.faithfulness(keeping: others) - 0.5) <= 1e-6)
        #expect(abs(try ablator.faithfulness(keeping: writer) - 1) <= 1e-6)
        #expect(abs(try ablator.faithfulness(keeping: []) - 0.5) <= 1e-6)
    }

    /// With one pair per length, mean and resample ablation both put back the pair's own corrupted
    /// values; on the single-head model that turns the only path to the metric into its corrupted value.
    @Test(arguments: [CircuitAblation.mean, .resample])
    func onePairPerLengthKnocksTheWritingHeadToTheCorruptedMetric(ablation: CircuitAblation) throws {
        let analysis = CircuitAnalysis(model: try Known.singleHeadModel())
        let ablator = try CircuitAblator(analysis: analysis, pairs: Known.pairs, ablation: ablation)
        let writer = Self.nodes(["a1.h0"], in: analysis)
        #expect(abs(try ablator.metric(knockingOut: writer) - ablator.corruptedMetric) <= 1e-5)
        #expect(abs(try ablator.completeness(of: writer)) <= 1e-6)
        #expect(abs(try ablator.faithfulness(keeping: writer) - 1) <= 1e-6)
        #expect(abs(try ablator.faithfulness(keeping: [])) <= 1e-6)
    }

    /// Resample ablation with one pair per length replaces every head's z and every MLP's output by
    /// the pair's own corrupted values; the last position's residual stream is then the token and
    /// position embedding (the same in both prompts) plus the corrupted outputs, i.e. exactly the
    /// corrupted run's. So knocking out every node gives the corrupted metric: faithfulness 0.
    @Test func resampleWithOnePairPerLengthKnockingOutEverythingGivesTheCorruptedMetric() throws {
        let analysis = CircuitAnalysis(model: Self.randomModel())
        let ablator = try CircuitAblator(analysis: analysis, pairs: Self.onePairPerLength, ablation: .resample)
        #expect(abs(ablator.cleanMetric - ablator.corruptedMetric) > 0.05)
        #expect(abs(try ablator.metric(knockingOut: Set(analysis.graph.nodes)) - ablator.corruptedMetric) <= 1e-5)
        #expect(abs(try ablator.faithfulness(keeping: [])) <= 1e-5)
        #expect(abs(try ablator.completeness(of: Set(analysis.graph.nodes))) <= 1e-5)
        // Mean ablation over a single pair is the same replacement.
        let mean = try CircuitAblator(analysis: analysis, pairs: Self.onePairPerLength, ablation: .mean)
        #expect(abs(try mean.faithfulness(keeping: [])) <= 1e-5)
        // Zero ablation is not: the embeddings alone do not give the corrupted metric.
        let zero = try CircuitAblator(analysis: analysis, pairs: Self.onePairPerLength, ablation: .zero)
        #expect(abs(try zero.faithfulness(keeping: [])) > 1e-3)
    }

    // MARK: - Against replacement values computed here

    /// Mean ablation replaces a node by its mean over the corrupted prompts (position by position);
    /// resample by the next pair's corrupted values (the last pair takes the first's). The metric with
    /// a0.h1 and m0 knocked out equals a forward pass with `.replace` interventions of those values,
    /// computed here from the corrupted run's cache.
    @Test(arguments: [CircuitAblation.mean, .resample])
    func knockedOutNodesTakeTheReplacementValues(ablation: CircuitAblation) throws {
        let model = Self.randomModel()
        let analysis = CircuitAnalysis(model: model)
        let pairs = Self.sameLengthPairs
        let ablator = try CircuitAblator(analysis: analysis, pairs: pairs, ablation: ablation)
        let (z, mlp) = ("blocks.0.attn.hook_z", "blocks.0.hook_mlp_out")
        let corrupted = try model.forward(pairs.map(\.corrupted), ForwardRequest(cache: [z, mlp], computeLogits: false))
        func replacement(_ hook: String) throws -> Tensor {
            let values = try #require(corrupted.cache[hook])
            let rows = values.shape[0], size = values.count / rows
            var result = Tensor(shape: values.shape)
            for row in 0..<rows {
                for i in 0..<size {
                    switch ablation {
                    case .mean: result.scalars[row * size + i] = (0..<rows).map { values.scalars[$0 * size + i] }.reduce(0, +) / Float(rows)
                    case .resample: result.scalars[row * size + i] = values.scalars[((row + 1) % rows) * size + i]
                    case .zero: break
                    }
                }
            }
            return result
        }
        let expected = try Self.logitDifference(model, pairs.map(\.clean), pairs, interventions: [
            Intervention(hook: z, action: .replace(try replacement(z)), head: 1),
            Intervention(hook: mlp, action: .replace(try replacement(mlp))),
        ])
        let knocked = Self.nodes(["a0.h1", "m0"], in: analysis)
        let actual = try ablator.metric(knockingOut: knocked)
        #expect(abs(actual - expected) <= 1e-4, "\(actual) vs \(expected)")
        // The knock-out matters here, so the comparison is not between two clean runs.
        #expect(abs(actual - ablator.cleanMetric) > 1e-2, "\(actual) vs clean \(ablator.cleanMetric)")
        let span = ablator.cleanMetric - ablator.corruptedMetric
        #expect(abs(try ablator.completeness(of: knocked) - (expected - ablator.corruptedMetric) / span) <= 1e-3)
        let rest = Set(analysis.graph.nodes).subtracting(knocked)
        #expect(abs(try ablator.faithfulness(keeping: rest) - (expected - ablator.corruptedMetric) / span) <= 1e-3)
    }
}
