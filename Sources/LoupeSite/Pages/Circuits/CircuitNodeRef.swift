/// A node or edge end named in circuit findings, read from its id: `input`, `logits`, a head
/// `a{L}.h{H}` (as a receiver with `<q>`, `<k>` or `<v>`), or an MLP `m{L}`.
///
/// Only ids of this form get node pages and places in the graph; anything else is shown as text.
struct CircuitNodeRef: Hashable {
    /// What the id names.
    enum Kind: Hashable {
        case input, logits, head, mlp
    }

    let kind: Kind
    /// The layer (0 for `input` and `logits`).
    let layer: Int
    /// The head, for heads only.
    let head: Int?
    /// `q`, `k` or `v` when the id names one input of a head.
    let port: Character?

    /// The node's id without the port: `input`, `logits`, `a1.h2`, `m0`.
    var nodeID: String {
        switch kind {
        case .input: return "input"
        case .logits: return "logits"
        case .head: return "a\(layer).h\(head ?? 0)"
        case .mlp: return "m\(layer)"
        }
    }

    /// Whether the node has a page of its own (heads and MLPs).
    var hasPage: Bool { kind == .head || kind == .mlp }

    /// The reference `id` names, or `nil` when it is none of the forms above.
    init?(_ id: String) {
        if id == "input" { self.init(kind: .input, layer: 0, head: nil, port: nil); return }
        if id == "logits" { self.init(kind: .logits, layer: 0, head: nil, port: nil); return }
        var rest = Substring(id)
        var port: Character? = nil
        if rest.hasSuffix(">"), rest.count > 3 {
            let tail = rest.suffix(3)
            guard tail.first == "<", let p = tail.dropFirst().first, "qkv".contains(p) else { return nil }
            port = p
            rest = rest.dropLast(3)
        }
        if rest.hasPrefix("m"), port == nil, let layer = Self.number(rest.dropFirst()) {
            self.init(kind: .mlp, layer: layer, head: nil, port: nil)
            return
        }
        guard rest.hasPrefix("a"), let dot = rest.firstIndex(of: ".") else { return nil }
        let layerText = rest[rest.index(after: rest.startIndex)..<dot]
        let headText = rest[rest.index(after: dot)...]
        guard headText.hasPrefix("h"), let layer = Self.number(layerText), let head = Self.number(headText.dropFirst()) else { return nil }
        self.init(kind: .head, layer: layer, head: head, port: port)
    }

    private init(kind: Kind, layer: Int, head: Int?, port: Character?) {
        self.kind = kind
        self.layer = layer
        self.head = head
        self.port = port
    }

    /// A non-negative decimal without sign or leading zeros (so each node has exactly one id).
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 6, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if text.count > 1 && text.first == "0" { return nil }
        return Int(text)
    }
}
