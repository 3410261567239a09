import Foundation
import LoupeFindings

/// A known circuit: the ids of its nodes and, optionally, its edges (`{"nodes": [...], "edges": [...]}`).
public struct CircuitGroundTruth: Sendable, Equatable, Codable {
    /// Node ids (`a{L}.h{H}`, `m{L}`).
    public var nodes: [String]
    /// Edge ids (`SENDER->RECEIVER`); empty when only nodes are known.
    public var edges: [String]
    /// How the circuit was established (the file's optional `command`, as `loupe circuit-truth` writes it).
    public var command: String?

    public init(nodes: [String], edges: [String] = [], command: String? = nil) {
        self.nodes = nodes
        self.edges = edges
        self.command = command
    }

    /// Reads a ground-truth file; every id must name a node or edge of `graph`.
    public static func load(url: URL, graph: CircuitGraph) throws -> CircuitGroundTruth {
        let path = url.path
        let reader = try JSONObjectReader.read(url, error: { key, reason in
            CircuitError.invalidGroundTruth(path: path, reason: key.map { "key '\($0)': \(reason)" } ?? reason)
        })
        let truth = CircuitGroundTruth(
            nodes: try reader.required("nodes", reader.strings), edges: try reader.strings("edges") ?? [],
            command: try reader.string("command"))
        let knownNodes = Set(graph.nodes.map(\.id))
        if let unknown = truth.nodes.first(where: { !knownNodes.contains($0) }) {
            throw CircuitError.invalidGroundTruth(path: path, reason: "node '\(unknown)' is not a node of the model (a{L}.h{H} or m{L})")
        }
        let knownEdges = Set(graph.edgeIDs)
        if let unknown = truth.edges.first(where: { !knownEdges.contains($0) }) {
            throw CircuitError.invalidGroundTruth(path: path, reason: "edge '\(unknown)' is not an edge of the model")
        }
        return truth
    }

    /// `result` with its node AUC (and edge AUC when this ground truth lists edges and the method scores edges).
    public func scoring(_ result: CircuitMethodResult) -> CircuitMethodResult {
        var scored = result
        let members = Set(nodes)
        scored.nodeAUC = ROC.auc(scores: result.nodes.map { abs($0.score) }, labels: result.nodes.map { members.contains($0.id) })
        if !edges.isEmpty && !result.edges.isEmpty {
            let edgeMembers = Set(edges)
            scored.edgeAUC = ROC.auc(scores: result.edges.map { abs($0.score) }, labels: result.edges.map { edgeMembers.contains($0.id) })
        }
        return scored
    }
}

/// Receiver operating characteristic of scores against binary labels.
public enum ROC {
    /// The area under the ROC curve: the probability that a random positive scores above a random
    /// negative, ties counting one half. `nil` when there is no positive or no negative.
    public static func auc(scores: [Double], labels: [Bool]) -> Double? {
        let positives = labels.filter { $0 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        // Mann–Whitney U from mid-ranks of the sorted scores.
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let midRank = Double(start + end) / 2 + 1
            for i in start...end where labels[order[i]] { rankSum += midRank }
            start = end + 1
        }
        let u = rankSum - Double(positives * (positives + 1)) / 2
        return u / Double(positives * negatives)
    }

    /// The curve's points `(false-positive rate, true-positive rate)` from the highest threshold down,
    /// one point per distinct score, starting at (0, 0) and ending at (1, 1); empty when `auc` is `nil`.
    public static func curve(scores: [Double], labels: [Bool]) -> [(falsePositiveRate: Double, truePositiveRate: Double)] {
        let positives = Double(labels.filter { $0 }.count)
        let negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return [] }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [(falsePositiveRate: Double, truePositiveRate: Double)] = [(0, 0)]
        var (truePositives, falsePositives) = (0.0, 0.0)
        for (position, index) in order.enumerated() {
            if labels[index] { truePositives += 1 } else { falsePositives += 1 }
            if position + 1 == order.count || scores[order[position + 1]] != scores[index] {
                points.append((falsePositives / negatives, truePositives / positives))
            }
        }
        return points
    }
}
