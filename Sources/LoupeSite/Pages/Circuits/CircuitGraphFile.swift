import Foundation
import LoupeFindings

/// `circuits/<slug>/graph.json`: a task's circuit in circuit-tracer's graph schema (`metadata`,
/// `qParams`, `nodes`, `links`), so its graph viewer and tools can read it.
///
/// Nodes are `input` (an embedding node, layer `E`), every head and MLP (layer as a string, as
/// circuit-tracer writes it) and `logits` (layer = number of layers + 1); all sit at the last position.
/// The circuit's nodes are pinned. Links are the edge method's edges between the circuit's nodes,
/// `input` and `logits`, the largest 200 by |weight|; a sender's edges into one head's query, key
/// and value are summed into one link.
struct CircuitGraphFile: Encodable {
    struct Metadata: Encodable {
        let schemaVersion: Int
        let slug, scan: String
        let promptTokens: [String]
        let prompt: String
        let transcoderList: [String]

        enum CodingKeys: String, CodingKey {
            case slug, scan, prompt
            case schemaVersion = "schema_version", promptTokens = "prompt_tokens", transcoderList = "transcoder_list"
        }
    }

    struct QParams: Encodable {
        let pinnedIds: [String]
        let supernodes: [[String]]
        let linkType, clickedId, sgPos: String

        enum CodingKeys: String, CodingKey {
            case pinnedIds, supernodes, linkType, clickedId
            case sgPos = "sg_pos"
        }
    }

    struct Node: Encodable {
        let nodeID: String
        let feature: Int
        let layer: String
        let ctxIndex: Int
        let featureType, jsNodeID, clerp: String
        let influence: Double?
        let isTargetLogit: Bool

        enum CodingKeys: String, CodingKey {
            case feature, layer, clerp, influence
            case nodeID = "node_id", ctxIndex = "ctx_idx", featureType = "feature_type", jsNodeID = "jsNodeId"
            case isTargetLogit = "is_target_logit"
        }
    }

    struct Link: Encodable {
        let source, target: String
        let weight: Double
    }

    let metadata: Metadata
    let qParams: QParams
    let nodes: [Node]
    let links: [Link]

    /// Links kept at most.
    static let linkLimit = 200

    init(_ facts: CircuitTaskFacts) {
        let task = facts.task
        let tokens = task.prompts.first?.clean ?? []
        let last = max(0, tokens.count - 1)
        let circuit = Set(facts.best?.circuit ?? [])
        let scores = Dictionary((facts.best?.nodes ?? []).map { ($0.id, $0.score) }, uniquingKeysWith: { first, _ in first })
        let method = facts.best?.method ?? ""

        metadata = Metadata(
            schemaVersion: 1, slug: task.slug, scan: "loupe-circuits", promptTokens: tokens,
            prompt: tokens.joined(), transcoderList: [])
        let pinned = facts.nodes.map(\.nodeID).filter(circuit.contains)
        qParams = QParams(pinnedIds: pinned, supernodes: [], linkType: "both", clickedId: "", sgPos: "")

        var nodes = [Node(nodeID: "input", feature: 0, layer: "E", ctxIndex: last, featureType: "embedding",
                          jsNodeID: "input", clerp: "input (token and position embeddings)", influence: nil, isTargetLogit: false)]
        for ref in facts.nodes {
            let id = ref.nodeID
            let score = scores[id].flatMap { $0.isFinite ? $0 : nil }
            let scoreText = score.map { " score \(NumberText.significant($0)) (\(method))" } ?? ""
            nodes.append(Node(
                nodeID: id, feature: ref.head ?? -1, layer: String(ref.layer), ctxIndex: last,
                featureType: ref.kind == .head ? "attention head" : "mlp", jsNodeID: id,
                clerp: id + scoreText + (circuit.contains(id) ? " · in circuit" : ""), influence: score, isTargetLogit: false))
        }
        nodes.append(Node(nodeID: "logits", feature: 0, layer: String(facts.layers + 1), ctxIndex: last, featureType: "logit",
                          jsNodeID: "logits", clerp: "logits (\(CircuitTaskFacts.metricName))", influence: nil, isTargetLogit: true))
        self.nodes = nodes

        let known = Set(nodes.map(\.nodeID))
        let eligible = CircuitGraphDrawing.shownEdges(facts.edgeMethod?.edges ?? [], circuit: circuit, limit: Int.max)
        var order: [String] = []
        var merged: [String: Link] = [:]
        for edge in eligible {
            guard let source = CircuitNodeRef(edge.sender)?.nodeID, let target = CircuitNodeRef(edge.receiver)?.nodeID,
                  known.contains(source), known.contains(target) else { continue }
            let key = source + "->" + target
            if let link = merged[key] {
                merged[key] = Link(source: source, target: target, weight: link.weight + edge.score)
            } else {
                order.append(key)
                merged[key] = Link(source: source, target: target, weight: edge.score)
            }
        }
        let ranked = order.enumerated().compactMap { i, key in merged[key].map { (i, $0) } }
            .sorted { abs($0.1.weight) != abs($1.1.weight) ? abs($0.1.weight) > abs($1.1.weight) : $0.0 < $1.0 }
        links = ranked.prefix(Self.linkLimit).map(\.1)
    }

    /// The file's bytes (keys sorted, so equal findings give equal bytes).
    func data() throws -> Data {
        try JSONWriter.encode(self, layout: .pretty)
    }
}
