import Foundation
@testable import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld
import Testing

/// The reference circuits: `CircuitTruthSearch` on the single-head model and on the demo model, the
/// committed `Reports/demo/circuits/*.json`, and `HeadBehaviour` on the demo model.
@Suite("Circuits: reference circuits and head behaviour")
struct CircuitTruthTests {
    typealias Known = CircuitKnownAnswerTests

    static let demo = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Reports/demo")

    static func demoModel() throws -> GPT2Model {
        try GPT2Model.load(directory: demo.appendingPathComponent("model"))
    }

    /// `count` pairs of the toy task `name` drawn with `seed`, as `loupe circuit-truth` draws them.
    static func toyPairs(_ name: String, count: Int, seed: UInt64 = 1, model: GPT2Model) throws -> [TaskExample] {
        try CircuitTask.pairs(name, model: model, modelDirectory: demo.appendingPathComponent("model"), examples: count, seed: seed, prependBOS: false)
    }

    /// A committed reference circuit file.
    struct TruthFile {
        var nodes: [String]
        var faithfulness: Double
        var completeness: Double
        var drops: [(id: String, drop: Double)]
        var command: String

        init(_ url: URL) throws {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            #expect(Set(object.keys) == ["nodes", "edges", "faithfulness", "completeness", "drops", "command"], "\(url.lastPathComponent)")
            nodes = try #require(object["nodes"] as? [String])
            faithfulness = try #require(object["faithfulness"] as? Double)
            completeness = try #require(object["completeness"] as? Double)
            drops = try #require(object["drops"] as? [[String: Any]]).map { (try #require($0["id"] as? String), try #require($0["drop"] as? Double)) }
            command = try #require(object["command"] as? String)
        }
    }

    static let truthFiles = ["counting", "docstring", "greater_than", "induction", "ioi"]

    // MARK: - Search on the single-head model

    /// Only a1.h0 carries the metric, so the search removes every other node (ties go to the first
    /// in forward order: five rounds) and keeps a1.h0, whose removal costs everything (mean and
    /// resample with one pair per length put back the corrupted values) or half (zero ablation).
    @Test(arguments: [(CircuitAblation.mean, 1.0), (.resample, 1.0), (.zero, 0.5)])
    func theSearchFindsTheWritingHeadAlone(ablation: CircuitAblation, drop: Double) throws {
        let ablator = try CircuitAblator(analysis: CircuitAnalysis(model: try Known.singleHeadModel()), pairs: Known.pairs, ablation: ablation)
        var rounds: [Int] = []
        let nodes = try CircuitTruthSearch.search(ablator: ablator, progress: { rounds.append($0) })
        #expect(nodes.map(\.id) == ["a1.h0"])
        #expect(rounds == [1, 2, 3, 4, 5])
        let evidence = try CircuitTruthSearch.evidence(of: nodes, ablator: ablator)
        #expect(abs(evidence.faithfulness - 1) <= 1e-6)
        #expect(abs(evidence.completeness - (1 - drop)) <= 1e-6)
        #expect(evidence.drops.map(\.id) == ["a1.h0"])
        #expect(abs(evidence.drops[0].drop - drop) <= 1e-6)
        #expect(evidence.drops.allSatisfy { $0.drop >= 0.01 })
    }

    /// The second pass alone (a `keep` above any faithfulness): it removes the nodes costing less
    /// than `minimumDrop` while the metric stays at or above `floor`.
    @Test func theSecondPassRemovesCheapNodesAboveTheFloor() throws {
        let ablator = try CircuitAblator(analysis: CircuitAnalysis(model: try Known.singleHeadModel()), pairs: Known.pairs, ablation: .zero)
        let all = ablator.analysis.graph.nodes.map(\.id)
        #expect(try CircuitTruthSearch.search(ablator: ablator, keep: 1.01, floor: 0.85, minimumDrop: 0.01).map(\.id) == ["a1.h0"])
        // a1.h0 costs 0.5: under minimumDrop 0.6 but its removal leaves 0.5, below the floor 0.85 …
        #expect(try CircuitTruthSearch.search(ablator: ablator, keep: 1.01, floor: 0.85, minimumDrop: 0.6).map(\.id) == ["a1.h0"])
        // … and above the floor 0.4: then it goes too.
        #expect(try CircuitTruthSearch.search(ablator: ablator, keep: 1.01, floor: 0.4, minimumDrop: 0.6).isEmpty)
        // A first pass that may drop to 0.4 removes a1.h0 as well.
        #expect(try CircuitTruthSearch.search(ablator: ablator, keep: 0.4).isEmpty)
        #expect(all.count == 6)
    }

    // MARK: - The demo model's reference circuits

    /// The search on the demo model's docstring task, on 8 pairs rather than the committed file's 64
    /// (every pair's forward pass costs much in debug builds; with 4 pairs the completeness is 0.25),
    /// finds a circuit meeting the genuineness criteria (faithfulness ≥ 0.85, completeness ≤ 0.20,
    /// every node's own drop ≥ 0.01), and it is the committed circuit.
    @Test func theSearchOnTheDocstringTaskFindsAGenuineCircuit() throws {
        let model = try Self.demoModel()
        let ablator = try CircuitAblator(analysis: CircuitAnalysis(model: model), pairs: try Self.toyPairs("docstring", count: Self.searchPairs, model: model), ablation: .mean)
        var rounds = 0
        let nodes = try CircuitTruthSearch.search(ablator: ablator, keep: 0.9, progress: { rounds = $0 })
        #expect(rounds == ablator.analysis.graph.nodes.count - nodes.count)
        let evidence = try CircuitTruthSearch.evidence(of: nodes, ablator: ablator)
        #expect(evidence.faithfulness >= 0.85, "\(evidence.faithfulness)")
        #expect(evidence.completeness <= 0.20, "\(evidence.completeness)")
        #expect(evidence.drops.map(\.id) == nodes.map(\.id))
        #expect(evidence.drops.allSatisfy { $0.drop >= 0.01 }, "\(evidence.drops)")
        #expect(nodes.map(\.id) == (try TruthFile(Self.demo.appendingPathComponent("circuits/docstring.json"))).nodes)
    }

    static let searchPairs = 8

    /// Every committed reference circuit meets the genuineness criteria as recorded: faithfulness
    /// ≥ 0.85, completeness ≤ 0.20, every node's drop ≥ 0.01, and it records the command that made it.
    @Test(arguments: truthFiles)
    func everyReferenceCircuitIsGenuineAsRecorded(task: String) throws {
        let file = try TruthFile(Self.demo.appendingPathComponent("circuits/\(task).json"))
        #expect(!file.nodes.isEmpty)
        #expect(file.faithfulness >= 0.85, "\(file.faithfulness)")
        #expect(file.completeness <= 0.20, "\(file.completeness)")
        #expect(file.drops.map(\.id) == file.nodes)
        #expect(file.drops.allSatisfy { $0.drop >= 0.01 }, "\(file.drops)")
        #expect(file.command.hasPrefix("loupe circuit-truth"))
        #expect(file.command.contains("--task \(task) ") && file.command.contains("--output circuits/\(task).json"))
        let graph = CircuitGraph(layers: 4, heads: 4)
        #expect(Set(file.nodes).isSubset(of: Set(graph.nodes.map(\.id))))
        #expect(file.nodes == graph.nodes.map(\.id).filter { file.nodes.contains($0) }, "nodes in forward order")
    }

    /// The evidence recorded in the docstring file is what the ablator measures for its nodes on the
    /// pairs its command draws (the smallest circuit: the other files take minutes in debug builds).
    @Test(arguments: ["docstring"])
    func theRecordedEvidenceIsReproducible(task: String) throws {
        let file = try TruthFile(Self.demo.appendingPathComponent("circuits/\(task).json"))
        #expect(file.command.contains("--ablation mean") && file.command.contains("--examples 64") && file.command.contains("--seed 1"))
        let model = try Self.demoModel()
        let analysis = CircuitAnalysis(model: model)
        let ablator = try CircuitAblator(analysis: analysis, pairs: try Self.toyPairs(task, count: 64, model: model), ablation: .mean)
        let nodes = analysis.graph.nodes.filter { file.nodes.contains($0.id) }
        let evidence = try CircuitTruthSearch.evidence(of: nodes, ablator: ablator)
        #expect(abs(evidence.faithfulness - file.faithfulness) <= 1e-4, "\(evidence.faithfulness) vs \(file.faithfulness)")
        #expect(abs(evidence.completeness - file.completeness) <= 1e-4, "\(evidence.completeness) vs \(file.completeness)")
        for (found, recorded) in zip(evidence.drops, file.drops) {
            #expect(found.id == recorded.id)
            #expect(abs(found.drop - recorded.drop) <= 1e-4, "\(found.id): \(found.drop) vs \(recorded.drop)")
        }
    }

    // MARK: - Head behaviour

    @Test(arguments: [
        // (layer, hook, reads the residual after layer's attention)
        (1, "blocks.2.hook_resid_pre", true),
        (1, "blocks.3.hook_resid_pre", true),
        (1, "blocks.1.hook_resid_pre", false),
        (1, "blocks.0.hook_resid_pre", false),
        (1, "blocks.1.hook_resid_mid", true),
        (1, "blocks.0.hook_resid_mid", false),
        (1, "blocks.2.hook_resid_mid", true),
        (1, "blocks.1.hook_resid_post", true),
        (1, "blocks.0.hook_resid_post", false),
        (0, "blocks.0.hook_resid_pre", false),
        (0, "blocks.0.hook_resid_mid", true),
        (0, "blocks.0.hook_resid_post", true),
        (1, "blocks.1.hook_mlp_out", false),
        (1, "blocks.2.attn.hook_z", false),
        (1, "blocks.2.hook_attn_out", false),
        (1, "hook_embed", false),
        (1, "ln_final.hook_normalized", false),
        (1, "not a hook", false),
    ])
    func readsResidualAfterAHeadsLayer(layer: Int, hook: String, reads: Bool) {
        #expect(HeadBehaviour.readsResidual(after: layer, hook: hook) == reads)
    }

    /// Attention patterns of every head on one IOI prompt: a T × T matrix per head, rows summing to 1
    /// (to the three decimals kept), zero above the diagonal, equal to the model's own `hook_pattern`.
    @Test func patternsAreCausalDistributions() throws {
        let model = try Self.demoModel()
        let pair = try Self.toyPairs("ioi", count: 1, seed: 5, model: model)
        let heads = try HeadBehaviour(model: model).heads(shown: pair, pairs: pair, dictionaries: [])
        #expect(heads.map(\.id) == (0..<4).flatMap { l in (0..<4).map { "a\(l).h\($0)" } })
        let t = pair[0].clean.count
        #expect(t > 4)
        let run = try model.forward([pair[0].clean], ForwardRequest(cache: Set((0..<4).map { "blocks.\($0).attn.hook_pattern" }), computeLogits: false))
        for head in heads {
            #expect(head.features.isEmpty)
            #expect(head.patterns.count == 1)
            let pattern = head.patterns[0]
            #expect(pattern.count == t && pattern.allSatisfy { $0.count == t })
            let reference = try #require(run.cache["blocks.\(head.layer).attn.hook_pattern"]).scalars
            for query in 0..<t {
                #expect(abs(pattern[query].reduce(0, +) - 1) <= 0.0005 * Double(t) + 1e-9, "\(head.id) row \(query)")
                for key in 0..<t {
                    if key > query { #expect(pattern[query][key] == 0, "\(head.id) [\(query), \(key)]") }
                    #expect(abs(pattern[query][key] - Double(reference[(head.head * t + query) * t + key])) <= 0.0005 + 1e-9)
                }
            }
        }
    }
}
