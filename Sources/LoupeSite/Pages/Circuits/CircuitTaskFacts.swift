import LoupeFindings

/// What the outputs of one circuit task share (task page, node pages, `summary.md`, `graph.json`):
/// the best method, the method whose edges are drawn, the nodes that have pages, and the words for
/// the metric and the ablation.
struct CircuitTaskFacts {
    let task: CircuitTaskFindings
    /// The method with the highest node AUC; the first method when none has one.
    let best: CircuitMethodFindings?
    /// The method whose edges are drawn: the best method if it scores edges, otherwise the edge
    /// method with the highest edge AUC (the first edge method when none has one).
    let edgeMethod: CircuitMethodFindings?
    /// Heads and MLPs named by the task's heads or any method's scores, in forward order (by layer,
    /// heads before the MLP); each has a page.
    let nodes: [CircuitNodeRef]
    /// Ids of `nodes`.
    let nodeIDs: Set<String>
    /// Number of layers and of heads per layer the nodes span.
    let layers: Int, heads: Int

    init(_ task: CircuitTaskFindings) {
        self.task = task
        let best = Self.highest(task.methods, by: \.nodeAUC)
        self.best = best
        if let best, !best.edges.isEmpty {
            edgeMethod = best
        } else {
            edgeMethod = Self.highest(task.methods.filter { !$0.edges.isEmpty }, by: \.edgeAUC)
        }
        let named = task.heads.map(\.id) + task.methods.flatMap { $0.nodes.map(\.id) }
        let refs = Set(named.compactMap(CircuitNodeRef.init).filter { $0.hasPage && $0.port == nil })
        nodes = refs.sorted(by: Self.forwardOrder)
        nodeIDs = Set(nodes.map(\.nodeID))
        layers = (nodes.map(\.layer).max() ?? -1) + 1
        heads = (nodes.compactMap(\.head).max() ?? -1) + 1
    }

    /// The first of `methods` with the largest `key`; methods without one rank below those with one.
    static func highest(_ methods: [CircuitMethodFindings], by key: KeyPath<CircuitMethodFindings, Double?>) -> CircuitMethodFindings? {
        var chosen = methods.first
        var top: Double? = chosen?[keyPath: key]
        for method in methods.dropFirst() {
            guard let value = method[keyPath: key], value.isFinite else { continue }
            if top.map({ !$0.isFinite || value > $0 }) ?? true {
                chosen = method
                top = value
            }
        }
        return chosen
    }

    /// Forward order of heads and MLPs: by layer, heads (by index) before the layer's MLP.
    static func forwardOrder(_ a: CircuitNodeRef, _ b: CircuitNodeRef) -> Bool {
        (a.layer, a.head ?? Int.max) < (b.layer, b.head ?? Int.max)
    }

    /// The page of node `id` relative to a page in the task's folder, or `nil` when it has none.
    func nodeHref(_ id: String) -> String? {
        nodeIDs.contains(id) ? SitePaths.urlSegment(SitePaths.nodePage(id)) : nil
    }

    /// The metric's name.
    static let metricName = "logit difference"
    /// The metric, defined.
    static let metricDefinition = "logit difference (correct − wrong answer at the last position), mean over pairs"
    /// What the normalised metric means.
    static let normalisation = "normalised: 0 is the corrupted prompts' metric, 1 the clean prompts'"

    /// `mean ablation`, `resample ablation`, `zero ablation`.
    var ablationName: String { "\(task.ablation.rawValue) ablation" }

    /// How nodes outside a circuit are knocked out, in words.
    var ablationDefinition: String {
        switch task.ablation {
        case .mean: return "nodes outside the circuit are replaced by their mean over the corrupted prompts, position by position"
        case .resample: return "nodes outside the circuit are replaced by their value on another pair's corrupted prompt of the same length"
        case .zero: return "nodes outside the circuit are set to zero"
        }
    }

    /// What every figure states next to its numbers: `logit difference · mean ablation · 24 pairs`.
    var context: String {
        "\(Self.metricName) · \(ablationName) · \(NumberText.integer(task.pairs)) \(task.pairs == 1 ? "pair" : "pairs")"
    }

    /// A normalised metric as a percentage (`92.0%`).
    static func share(_ value: Double) -> String { NumberText.percent(value) }

    /// An AUC with three decimals, or `—`.
    static func auc(_ value: Double?) -> String { value.map { NumberText.fixed($0, 3) } ?? "—" }

    /// A score with its sign and three significant digits (`+0.532`, `−0.0123`).
    static func score(_ value: Double) -> String {
        let text = NumberText.significant(value)
        return value > 0 ? "+" + text : text.replacingOccurrences(of: "-", with: "−")
    }
}
