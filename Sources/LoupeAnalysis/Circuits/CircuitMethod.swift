import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld

/// The circuit-discovery methods Loupe runs. Every score is a change of the metric (logit difference)
/// with one sign convention, averaged over pairs.
public enum CircuitMethod: String, CaseIterable, Sendable, Codable {
    /// Activation patching (nodes): M(clean run with the node's activation taken from the corrupted
    /// run at every position) − M(clean run), everything downstream recomputed.
    case patching
    /// Attribution patching (nodes): Σ_positions (a(corrupted) − a(clean)) · ∂M/∂a on the clean run.
    case attribution
    /// Edge attribution patching: Σ_positions (sender(corrupted) − sender(clean)) · ∂M/∂receiver input.
    case eap
    /// EAP with integrated gradients over inputs interpolated from corrupted to clean embeddings.
    case eapIG = "eap-ig"
    /// O'Neill & Bui's discrete dictionary codes of head outputs (nodes and edges).
    case saeCodes = "sae-codes"

    /// Whether the method scores edges (and derives node scores from them).
    public var scoresEdges: Bool { self != .patching && self != .attribution }

    /// The forward and backward passes (one prompt each) the method runs on `pairs` pairs of a graph
    /// with `nodes` nodes: two per pair (clean and corrupted) plus one per node for patching, one
    /// backward for the gradient methods, `igSteps` forwards and backwards for EAP-IG.
    public func passes(pairs: Int, nodes: Int, igSteps: Int) -> (forward: Int, backward: Int) {
        switch self {
        case .patching: return (pairs * (2 + nodes), 0)
        case .attribution, .eap: return (pairs * 2, pairs)
        case .eapIG: return (pairs * (2 + igSteps), pairs * igSteps)
        case .saeCodes: return (pairs * 2, 0)
        }
    }
}

/// Runs a circuit method on a model and a task's prompt pairs.
public struct CircuitAnalysis: Sendable {
    /// The model.
    public let model: GPT2Model
    /// Its graph.
    public let graph: CircuitGraph
    /// Number of interpolation steps of `eap-ig`.
    public var igSteps: Int
    /// Seed of the methods that draw random numbers (`sae-codes`).
    public var seed: UInt64
    /// Largest number of activation values (rows × width) a batch may hold per sender or receiver.
    public var batchBudget = 1 << 26

    public init(model: GPT2Model, igSteps: Int = 5, seed: UInt64 = 1) {
        self.model = model
        graph = CircuitGraph(layers: model.config.layers, heads: model.config.heads)
        self.igSteps = igSteps
        self.seed = seed
    }

    /// The scores `method` gives the nodes (and edges) of `graph` on `pairs`, with the clean and
    /// corrupted metrics and the method's wall time. `task` names the task in the result. `progress`
    /// receives (done, total) in the method's own units: patched nodes per batch, batches of pairs,
    /// or dictionary training steps.
    public func run(
        _ method: CircuitMethod, task: String, pairs: [TaskExample], progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws -> CircuitMethodResult {
        guard !pairs.isEmpty else { throw CircuitError.invalidInput(reason: "the task has no prompt pair") }
        guard igSteps >= 1 else { throw CircuitError.invalidInput(reason: "--ig-steps must be at least 1") }
        let start = Date()
        let scores: CircuitScores
        switch method {
        case .patching: scores = try NodePatching(analysis: self).scores(pairs, progress: progress)
        case .attribution, .eap, .eapIG: scores = try GradientAttribution(analysis: self, method: method).scores(pairs, progress: progress)
        case .saeCodes: scores = try DiscreteCodes(analysis: self).scores(pairs, progress: progress)
        }
        let seconds = Date().timeIntervalSince(start)
        return result(scores, task: task, method: method, pairs: pairs.count, seconds: seconds)
    }

    /// Batches of `pairs` sized to `batchBudget` for `perRow` values per prompt token.
    func batches(_ pairs: [TaskExample], valuesPerToken perRow: Int) throws -> [CircuitBatch] {
        try CircuitBatching.batches(pairs, model: model) { length in batchBudget / max(1, length * perRow) }
    }

    private func result(_ scores: CircuitScores, task: String, method: CircuitMethod, pairs: Int, seconds: Double) -> CircuitMethodResult {
        var edges: [CircuitEdgeScore] = []
        var derivedNodes = [Double](repeating: 0, count: graph.nodes.count)
        for (index, score) in (scores.edges ?? []).enumerated() {
            let edge = graph.edges[index]
            let senderID = CircuitGraph.id(ofSender: graph.senders[edge.sender])
            let receiverID = CircuitGraph.id(ofReceiver: graph.receivers[edge.receiver])
            edges.append(CircuitEdgeScore(id: senderID + "->" + receiverID, sender: senderID, receiver: receiverID, score: score))
            if edge.sender > 0 { derivedNodes[edge.sender - 1] += abs(score) }
        }
        let nodes = zip(graph.nodes, scores.nodes ?? derivedNodes).map { node, score in
            CircuitNodeScore(id: node.id, layer: node.layer, head: node.head, score: score)
        }
        return CircuitMethodResult(
            task: task, method: method.rawValue, pairs: pairs, cleanMetric: scores.clean,
            corruptedMetric: scores.corrupted, nodes: nodes, edges: edges, seconds: seconds)
    }
}

/// What a method found: per-pair means of the metrics and of the scores.
struct CircuitScores {
    /// Mean metric on the clean and on the corrupted prompts.
    var clean = 0.0, corrupted = 0.0
    /// One score per node of the graph, or `nil` for edge methods whose node scores are the sums of
    /// their outgoing edges' absolute scores.
    var nodes: [Double]?
    /// One score per edge of the graph, for edge methods.
    var edges: [Double]?

    /// These scores, sums over `pairs` pairs, divided into means.
    func averaged(over pairs: Int) -> CircuitScores {
        let count = Double(pairs)
        return CircuitScores(
            clean: clean / count, corrupted: corrupted / count,
            nodes: nodes?.map { $0 / count }, edges: edges?.map { $0 / count })
    }
}
