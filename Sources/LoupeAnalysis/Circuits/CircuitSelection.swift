import LoupeFindings

/// How many of a method's top nodes form its circuit.
public enum CircuitSize: Equatable, Sendable {
    /// The smallest number of top nodes whose faithfulness reaches `target` (all nodes if none does).
    case smallestReaching(target: Double)
    /// A fixed number of top nodes.
    case top(Int)
    /// Every node whose |score| is at least this.
    case threshold(Double)
}

/// A method's circuit and its faithfulness curve: nodes ranked by |score| (forward order on ties),
/// the normalised metric with only the top n kept for n = 0 … N, the chosen circuit and its completeness.
public struct CircuitSelection: Sendable {
    /// Faithfulness of the top n nodes, n = 0 … N.
    public var curve: [Double]
    /// The circuit's nodes, in rank order.
    public var circuit: [CircuitNode]
    /// Faithfulness of the circuit and the normalised metric left with it knocked out.
    public var faithfulness: Double, completeness: Double

    /// Ranks `result`'s nodes and measures them with `ablator`.
    public init(result: CircuitMethodResult, ablator: CircuitAblator, size: CircuitSize) throws {
        let nodes = ablator.analysis.graph.nodes
        let scores = Dictionary(uniqueKeysWithValues: result.nodes.map { ($0.id, abs($0.score)) })
        let ranked = nodes.indices.sorted { a, b in
            let (x, y) = (scores[nodes[a].id] ?? 0, scores[nodes[b].id] ?? 0)
            return x == y ? a < b : x > y
        }.map { nodes[$0] }
        curve = try (0...ranked.count).map { try ablator.faithfulness(keeping: Set(ranked.prefix($0))) }
        let count: Int
        switch size {
        case let .smallestReaching(target): count = curve.firstIndex { $0 >= target } ?? ranked.count
        case let .top(n): count = min(max(n, 0), ranked.count)
        case let .threshold(minimum): count = ranked.prefix { (scores[$0.id] ?? 0) >= minimum }.count
        }
        circuit = Array(ranked.prefix(count))
        faithfulness = curve[count]
        completeness = try ablator.completeness(of: Set(circuit))
    }
}
