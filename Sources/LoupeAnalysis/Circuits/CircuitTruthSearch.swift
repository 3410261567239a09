import LoupeFindings

/// Establishes a reference circuit by ablation: starting from every node, greedily drop the node whose
/// removal keeps the normalised metric highest while it stays at or above `keep`; then drop any node
/// whose removal costs less than `minimumDrop` while the metric stays at or above `floor`.
public enum CircuitTruthSearch {
    /// The circuit found with `ablator`'s pairs and ablation (nodes in forward order, no edges).
    public static func search(
        ablator: CircuitAblator, keep: Double = 0.9, floor: Double = 0.85, minimumDrop: Double = 0.01,
        progress: (Int) -> Void = { _ in }
    ) throws -> [CircuitNode] {
        var kept = Set(ablator.analysis.graph.nodes)
        var current = 1.0
        var rounds = 0
        while let (node, value) = try bestRemoval(from: kept, ablator: ablator), value >= keep {
            kept.remove(node)
            current = value
            rounds += 1
            progress(rounds)
        }
        while let (node, value) = try bestRemoval(from: kept, ablator: ablator), value >= floor, current - value < minimumDrop {
            kept.remove(node)
            current = value
            rounds += 1
            progress(rounds)
        }
        return ablator.analysis.graph.nodes.filter { kept.contains($0) }
    }

    /// The node of `kept` whose removal leaves the highest faithfulness, and that faithfulness
    /// (the first in forward order on ties); `nil` when `kept` is empty.
    private static func bestRemoval(from kept: Set<CircuitNode>, ablator: CircuitAblator) throws -> (CircuitNode, Double)? {
        var best: (CircuitNode, Double)?
        for node in ablator.analysis.graph.nodes where kept.contains(node) {
            var without = kept
            without.remove(node)
            let value = try ablator.faithfulness(keeping: without)
            if best == nil || value > best!.1 { best = (node, value) }
        }
        return best
    }

    /// The evidence that `nodes` is a genuine circuit: its faithfulness, its completeness and, for each
    /// node, the loss of faithfulness when it alone is dropped.
    public static func evidence(of nodes: [CircuitNode], ablator: CircuitAblator) throws -> (faithfulness: Double, completeness: Double, drops: [CircuitNodeDrop]) {
        let circuit = Set(nodes)
        let faithfulness = try ablator.faithfulness(keeping: circuit)
        let drops = try nodes.map { node -> CircuitNodeDrop in
            var without = circuit
            without.remove(node)
            return CircuitNodeDrop(id: node.id, drop: faithfulness - (try ablator.faithfulness(keeping: without)))
        }
        return (faithfulness, try ablator.completeness(of: circuit), drops)
    }
}
