import LoupeFindings

/// A circuit drawn as a layered inline SVG, after circuit-tracer's attribution graphs: `input` at the
/// bottom, each layer's heads (circles) and then its MLP (a rectangle) on rows above, `logits` at the
/// top. Nodes of the circuit are filled, the others faint; each node has a `<title>` and links to its
/// page. Edges are curves whose width grows with √|score| and whose class says the score's sign.
///
/// The SVG scales with its `viewBox`; colours come from the site's CSS (`cgraph`, `node`, `edge`).
struct CircuitGraphDrawing {
    /// Heads per layer and layers drawn.
    let layers: Int, heads: Int
    /// The nodes drawn, in forward order, with the score shown on hover (`nil` when the method has none).
    let nodes: [(ref: CircuitNodeRef, score: Double?)]
    /// Ids of the circuit's nodes.
    let circuit: Set<String>
    /// The edges drawn.
    let edges: [CircuitEdgeScore]
    /// Methods named in the node titles and in the edge titles.
    let method: String, edgeMethod: String
    /// The page of a node, relative to the drawing's page.
    let href: (String) -> String?
    /// Accessible name of the drawing.
    let title: String

    static let left = 70.0, right = 14.0, top = 22.0, bottom = 22.0
    static let column = 48.0, row = 46.0, radius = 11.0

    /// The `limit` edges of largest |score| among `edges` whose sender is `input` or in `circuit` and
    /// whose receiver reads into a node of `circuit` or the logits; equal magnitudes keep their order.
    static func shownEdges(_ edges: [CircuitEdgeScore], circuit: Set<String>, limit: Int) -> [CircuitEdgeScore] {
        let eligible = edges.enumerated().filter { _, edge in
            guard let sender = CircuitNodeRef(edge.sender), let receiver = CircuitNodeRef(edge.receiver),
                  edge.score.isFinite else { return false }
            let from = sender.kind == .input || circuit.contains(sender.nodeID)
            let to = receiver.kind == .logits || circuit.contains(receiver.nodeID)
            return from && to && sender.kind != .logits && receiver.kind != .input
        }
        let ranked = eligible.sorted { a, b in
            abs(a.element.score) != abs(b.element.score) ? abs(a.element.score) > abs(b.element.score) : a.offset < b.offset
        }
        return ranked.prefix(limit).map(\.element)
    }

    var width: Double { Self.left + Double(max(heads, 2)) * Self.column + Self.right }
    var height: Double { Self.top + Double(2 * layers + 1) * Self.row + Self.bottom }
    var centre: Double { Self.left + Double(max(heads, 2)) * Self.column / 2 }

    /// The vertical position of a row: 0 is `input`, 2L + 1 layer L's heads, 2L + 2 its MLP, 2·layers + 1 the logits.
    func y(row: Int) -> Double { Self.top + Double(2 * layers + 1 - row) * Self.row }

    /// Where a node sits and how far its glyph reaches above and below that point.
    func position(_ ref: CircuitNodeRef) -> (x: Double, y: Double, half: Double) {
        switch ref.kind {
        case .input: return (centre, y(row: 0), 10)
        case .logits: return (centre, y(row: 2 * layers + 1), 10)
        case .mlp: return (centre, y(row: 2 * ref.layer + 2), 9)
        case .head: return (Self.left + (Double(ref.head ?? 0) + 0.5) * Self.column, y(row: 2 * ref.layer + 1), Self.radius)
        }
    }

    /// The drawing as an `<svg>` element.
    var svg: String {
        let n = BarChart.n
        let label = DisplayText.escapeHTML(DisplayText.text(title))
        var out = "<svg class=\"cgraph\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"group\" aria-label=\"\(label)\"><title>\(label)</title>"
        for layer in 0..<layers {
            out += "<text class=\"rowlabel\" x=\"6\" y=\"\(n(y(row: 2 * layer + 1) + 4))\">L\(layer) heads</text>"
            out += "<text class=\"rowlabel\" x=\"6\" y=\"\(n(y(row: 2 * layer + 2) + 4))\">L\(layer) MLP</text>"
        }
        out += edgesSVG
        out += box(CircuitNodeRef("input")!, text: "input", hover: "input: token and position embeddings")
        out += box(CircuitNodeRef("logits")!, text: "logits", hover: "logits: the metric is read here")
        for (ref, score) in nodes { out += node(ref, score: score) }
        out += "</svg>"
        return out
    }

    var edgesSVG: String {
        let n = BarChart.n
        let largest = edges.map { abs($0.score) }.max() ?? 0
        var out = ""
        // Thin edges first, so thick ones are drawn over them.
        for edge in edges.reversed() {
            guard let sender = CircuitNodeRef(edge.sender), let receiver = CircuitNodeRef(edge.receiver) else { continue }
            let from = position(sender), to = position(receiver)
            let offset: Double = receiver.port.map { $0 == "q" ? -6 : $0 == "k" ? 0 : 6 } ?? 0
            let x0 = from.x, y0 = from.y - from.half, x1 = to.x + offset, y1 = to.y + to.half
            let middle = (y0 + y1) / 2
            let width = largest > 0 ? 0.6 + 5.4 * (abs(edge.score) / largest).squareRoot() : 0.6
            let sign = edge.score < 0 ? "neg" : "pos"
            let hover = DisplayText.escapeHTML(DisplayText.text("\(edge.sender) → \(edge.receiver): \(CircuitTaskFacts.score(edge.score)) (\(edgeMethod))"))
            out += "<path class=\"edge \(sign)\" stroke-width=\"\(NumberText.fixed(width, 2))\" d=\"M\(n(x0)) \(n(y0))C\(n(x0)) \(n(middle)) \(n(x1)) \(n(middle)) \(n(x1)) \(n(y1))\"><title>\(hover)</title></path>"
        }
        return out
    }

    func node(_ ref: CircuitNodeRef, score: Double?) -> String {
        let n = BarChart.n
        let id = ref.nodeID
        let member = circuit.contains(id)
        let state = member ? "in" : "out"
        let scoreText = score.map { "score \(CircuitTaskFacts.score($0)) (\(method))" } ?? "no score (\(method))"
        let hover = DisplayText.escapeHTML(DisplayText.text("\(id) · \(scoreText) · \(member ? "in the circuit" : "not in the circuit")"))
        let p = position(ref)
        var glyph: String
        if ref.kind == .head {
            glyph = "<circle class=\"node \(state)\" cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"\(n(Self.radius))\"/>"
            glyph += "<text class=\"nodelabel \(state)\" x=\"\(n(p.x))\" y=\"\(n(p.y + 3))\" text-anchor=\"middle\">h\(ref.head ?? 0)</text>"
        } else {
            glyph = "<rect class=\"node \(state)\" x=\"\(n(p.x - 22))\" y=\"\(n(p.y - p.half))\" width=\"44\" height=\"\(n(2 * p.half))\" rx=\"2\"/>"
            glyph += "<text class=\"nodelabel \(state)\" x=\"\(n(p.x))\" y=\"\(n(p.y + 3))\" text-anchor=\"middle\">\(id)</text>"
        }
        guard let link = href(id) else { return "<g><title>\(hover)</title>\(glyph)</g>" }
        return "<a href=\"\(DisplayText.escapeHTML(link))\"><title>\(hover)</title>\(glyph)</a>"
    }

    func box(_ ref: CircuitNodeRef, text: String, hover: String) -> String {
        let n = BarChart.n
        let p = position(ref)
        return "<g><title>\(hover)</title><rect class=\"node end\" x=\"\(n(p.x - 30))\" y=\"\(n(p.y - p.half))\" width=\"60\" height=\"\(n(2 * p.half))\" rx=\"4\"/>"
            + "<text class=\"nodelabel\" x=\"\(n(p.x))\" y=\"\(n(p.y + 4))\" text-anchor=\"middle\">\(text)</text></g>"
    }
}
