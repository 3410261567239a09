import LoupeModel

/// A node of a circuit: an attention head (`a{L}.h{H}`) or an MLP (`m{L}`).
public struct CircuitNode: Hashable, Sendable {
    /// The node's layer.
    public let layer: Int
    /// The head, or `nil` for the layer's MLP.
    public let head: Int?

    /// `a{L}.h{H}` or `m{L}`.
    public var id: String { head.map { "a\(layer).h\($0)" } ?? "m\(layer)" }

    /// Where the node stands in the forward order: the heads of layer L at 2L + 1, its MLP at 2L + 2.
    var stage: Int { 2 * layer + (head == nil ? 2 : 1) }
}

/// The computational graph circuit methods score: senders (the embeddings and every node) write
/// into the residual stream, receivers (each head's query, key and value, each MLP, the logits) read it.
///
/// A sender feeds a receiver when it comes earlier in the forward order: `input` feeds everything,
/// a head of layer l feeds its layer's MLP and everything above, an MLP of layer l everything above;
/// heads of one layer do not feed each other.
public struct CircuitGraph: Sendable {
    /// Number of blocks.
    public let layers: Int
    /// Heads per block.
    public let heads: Int
    /// Every node in forward order (per layer: heads, then the MLP).
    public let nodes: [CircuitNode]
    /// Every sender in forward order: `nil` for `input`, then the nodes.
    public let senders: [CircuitNode?]
    /// Every receiver in forward order (per layer: each head's query, key, value; the MLP; then the logits).
    public let receivers: [ComponentInput]
    /// Every edge, as indices into `senders` and `receivers`, ordered by receiver, then sender.
    public let edges: [(sender: Int, receiver: Int)]

    /// The graph of a model with `layers` blocks of `heads` heads.
    public init(layers: Int, heads: Int) {
        self.layers = layers
        self.heads = heads
        var nodes: [CircuitNode] = []
        var receivers: [ComponentInput] = []
        for layer in 0..<layers {
            for head in 0..<heads {
                nodes.append(CircuitNode(layer: layer, head: head))
                receivers += [.query(layer: layer, head: head), .key(layer: layer, head: head), .value(layer: layer, head: head)]
            }
            nodes.append(CircuitNode(layer: layer, head: nil))
            receivers.append(.mlp(layer: layer))
        }
        receivers.append(.unembedding)
        let senders: [CircuitNode?] = [nil] + nodes
        var edges: [(sender: Int, receiver: Int)] = []
        for (r, receiver) in receivers.enumerated() {
            let stage = Self.stage(of: receiver, layers: layers)
            for (s, sender) in senders.enumerated() where (sender?.stage ?? 0) < stage {
                edges.append((s, r))
            }
        }
        self.nodes = nodes
        self.senders = senders
        self.receivers = receivers
        self.edges = edges
    }

    /// Every edge's id (`SENDER->RECEIVER`), in the order of `edges`.
    public var edgeIDs: [String] {
        edges.map { Self.id(ofSender: senders[$0.sender]) + "->" + Self.id(ofReceiver: receivers[$0.receiver]) }
    }

    /// `input`, `a{L}.h{H}` or `m{L}`.
    public static func id(ofSender sender: CircuitNode?) -> String { sender?.id ?? "input" }

    /// `a{L}.h{H}<q>`, `<k>`, `<v>`, `m{L}` or `logits`.
    public static func id(ofReceiver receiver: ComponentInput) -> String {
        switch receiver {
        case let .query(layer, head): return "a\(layer).h\(head)<q>"
        case let .key(layer, head): return "a\(layer).h\(head)<k>"
        case let .value(layer, head): return "a\(layer).h\(head)<v>"
        case let .mlp(layer): return "m\(layer)"
        case .unembedding: return "logits"
        }
    }

    /// The forward stage at which a receiver reads: a head's inputs before the heads of its layer
    /// (2L + 1), an MLP's after them (2L + 2), the logits after everything.
    private static func stage(of receiver: ComponentInput, layers: Int) -> Int {
        switch receiver {
        case let .query(layer, _), let .key(layer, _), let .value(layer, _): return 2 * layer + 1
        case let .mlp(layer): return 2 * layer + 2
        case .unembedding: return 2 * layers + 1
        }
    }
}
