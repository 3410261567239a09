/// One node's score under a circuit method: an attention head (`a{L}.h{H}`) or an MLP (`m{L}`).
public struct CircuitNodeScore: Codable, Sendable, Equatable {
    /// `a{L}.h{H}` or `m{L}`.
    public var id: String
    /// The node's layer.
    public var layer: Int
    /// The head, or `nil` for an MLP (written as JSON `null`).
    public var head: Int?
    /// The change of the metric the method attributes to the node, averaged over pairs (edge
    /// methods: the sum of the absolute scores of the node's outgoing edges).
    public var score: Double

    public init(id: String, layer: Int, head: Int?, score: Double) {
        self.id = id
        self.layer = layer
        self.head = head
        self.score = score
    }

    enum CodingKeys: String, CodingKey { case id, layer, head, score }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(layer, forKey: .layer)
        try container.encode(head, forKey: .head)
        try container.encode(score, forKey: .score)
    }
}

/// One edge's score under an edge method: a sender's output as one receiver reads it.
public struct CircuitEdgeScore: Codable, Sendable, Equatable {
    /// `SENDER->RECEIVER`, e.g. `a0.h1->a2.h0<k>`.
    public var id: String
    /// `input`, `a{L}.h{H}` or `m{L}`.
    public var sender: String
    /// `a{L}.h{H}<q|k|v>`, `m{L}` or `logits`.
    public var receiver: String
    /// The change of the metric attributed to the edge, averaged over pairs.
    public var score: Double

    public init(id: String, sender: String, receiver: String, score: Double) {
        self.id = id
        self.sender = sender
        self.receiver = receiver
        self.score = score
    }
}

/// The scores one circuit method gives a task's nodes and edges (`loupe circuit`'s output).
public struct CircuitMethodResult: Codable, Sendable, Equatable {
    /// The task: a toy task's name or the task file's path as given.
    public var task: String
    /// `patching`, `attribution`, `eap`, `eap-ig` or `sae-codes`.
    public var method: String
    /// Number of prompt pairs.
    public var pairs: Int
    /// Mean metric (logit difference) on the clean prompts.
    public var cleanMetric: Double
    /// Mean metric on the corrupted prompts.
    public var corruptedMetric: Double
    /// Every node in forward order.
    public var nodes: [CircuitNodeScore]
    /// Every edge in forward order of receivers, then senders; empty for node methods.
    public var edges: [CircuitEdgeScore]
    /// Wall time of the method, in seconds.
    public var seconds: Double
    /// ROC AUC of |node score| against membership of a ground-truth circuit, when one was given.
    public var nodeAUC: Double?
    /// ROC AUC of |edge score| against a ground truth's edges, when it lists edges.
    public var edgeAUC: Double?

    public init(
        task: String, method: String, pairs: Int, cleanMetric: Double, corruptedMetric: Double,
        nodes: [CircuitNodeScore], edges: [CircuitEdgeScore], seconds: Double, nodeAUC: Double? = nil, edgeAUC: Double? = nil
    ) {
        self.task = task
        self.method = method
        self.pairs = pairs
        self.cleanMetric = cleanMetric
        self.corruptedMetric = corruptedMetric
        self.nodes = nodes
        self.edges = edges
        self.seconds = seconds
        self.nodeAUC = nodeAUC
        self.edgeAUC = edgeAUC
    }

    enum CodingKeys: String, CodingKey {
        case task, method, pairs, nodes, edges, seconds
        case cleanMetric = "clean_metric", corruptedMetric = "corrupted_metric"
        case nodeAUC = "node_auc", edgeAUC = "edge_auc"
    }
}
