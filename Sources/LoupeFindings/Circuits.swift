/// The findings section of the circuit analysis: for each task, every method's node and edge scores,
/// the circuit each method selects and how faithful it is, the comparison with a known circuit, and
/// what each head does on the task's prompts.
///
/// A report without this analysis has no section (`ReportFindings.circuits` is `nil`).
public struct CircuitFindings: Codable, Sendable, Equatable {
    /// One entry per task, in the spec's order.
    public var tasks: [CircuitTaskFindings]

    public init(tasks: [CircuitTaskFindings]) {
        self.tasks = tasks
    }
}

/// How nodes outside a circuit are knocked out when its faithfulness is measured.
public enum CircuitAblation: String, Codable, Sendable, CaseIterable {
    /// Replaced by their mean over the corrupted prompts, position by position.
    case mean
    /// Replaced by their value on another pair's corrupted prompt of the same length.
    case resample
    /// Set to zero.
    case zero
}

/// The circuit analysis of one task.
public struct CircuitTaskFindings: Codable, Sendable, Equatable {
    /// The task: a toy task's name or the task file's path relative to the report.
    public var task: String
    /// The name of the task's page folder (`circuits/<slug>/`).
    public var slug: String
    /// Number of prompt pairs.
    public var pairs: Int
    /// Mean logit difference (correct − wrong answer at the last position) on the clean and on the corrupted prompts.
    public var cleanMetric: Double, corruptedMetric: Double
    /// How nodes outside a circuit are knocked out.
    public var ablation: CircuitAblation
    /// A few of the task's pairs, shown on the pages.
    public var prompts: [CircuitPrompt]
    /// One entry per method, in the spec's order.
    public var methods: [CircuitMethodFindings]
    /// The known circuit the methods are scored against, when there is one.
    public var groundTruth: CircuitTruthFindings?
    /// Every head's behaviour on the task's prompts, in forward order.
    public var heads: [CircuitHeadFindings]

    public init(
        task: String, slug: String, pairs: Int, cleanMetric: Double, corruptedMetric: Double, ablation: CircuitAblation,
        prompts: [CircuitPrompt], methods: [CircuitMethodFindings], groundTruth: CircuitTruthFindings?, heads: [CircuitHeadFindings]
    ) {
        self.task = task
        self.slug = slug
        self.pairs = pairs
        self.cleanMetric = cleanMetric
        self.corruptedMetric = corruptedMetric
        self.ablation = ablation
        self.prompts = prompts
        self.methods = methods
        self.groundTruth = groundTruth
        self.heads = heads
    }
}

/// One prompt pair as the pages show it: display strings of the tokens (`[T]` each) and the answers.
public struct CircuitPrompt: Codable, Sendable, Equatable {
    public var clean: [String]
    public var corrupted: [String]
    /// The correct answers and the wrong ones.
    public var answers: [String], wrongAnswers: [String]

    public init(clean: [String], corrupted: [String], answers: [String], wrongAnswers: [String]) {
        self.clean = clean
        self.corrupted = corrupted
        self.answers = answers
        self.wrongAnswers = wrongAnswers
    }
}

/// One method's result on a task: scores, the circuit it selects, its faithfulness and its agreement with the ground truth.
public struct CircuitMethodFindings: Codable, Sendable, Equatable {
    /// `patching`, `attribution`, `eap`, `eap-ig` or `sae-codes`.
    public var method: String
    /// Every node's score, in forward order.
    public var nodes: [CircuitNodeScore]
    /// Every edge's score (edge methods; empty otherwise), in forward order.
    public var edges: [CircuitEdgeScore]
    /// Forward and backward passes the method ran over the pairs (its cost, independent of the machine).
    public var passes: CircuitPasses
    /// Normalised faithfulness of the top-n nodes by |score|, for n = 0 … number of nodes.
    public var faithfulness: [Double]
    /// The circuit: the chosen number of top nodes, their ids, its faithfulness, and the share of the metric left when it alone is ablated (completeness).
    public var circuitSize: Int
    public var circuit: [String]
    public var circuitFaithfulness: Double
    public var circuitCompleteness: Double
    /// ROC AUC of |node score| (and |edge score|) against the ground truth, when there is one.
    public var nodeAUC: Double?, edgeAUC: Double?
    /// The node ROC curve against the ground truth: (false-positive rate, true-positive rate) points.
    public var roc: [[Double]]

    public init(
        method: String, nodes: [CircuitNodeScore], edges: [CircuitEdgeScore], passes: CircuitPasses, faithfulness: [Double],
        circuitSize: Int, circuit: [String], circuitFaithfulness: Double, circuitCompleteness: Double,
        nodeAUC: Double?, edgeAUC: Double?, roc: [[Double]]
    ) {
        self.method = method
        self.nodes = nodes
        self.edges = edges
        self.passes = passes
        self.faithfulness = faithfulness
        self.circuitSize = circuitSize
        self.circuit = circuit
        self.circuitFaithfulness = circuitFaithfulness
        self.circuitCompleteness = circuitCompleteness
        self.nodeAUC = nodeAUC
        self.edgeAUC = edgeAUC
        self.roc = roc
    }
}

/// The model passes a method ran: its cost in a form that does not depend on the machine.
public struct CircuitPasses: Codable, Sendable, Equatable {
    /// Forward passes over one prompt each.
    public var forward: Int
    /// Backward passes over one prompt each.
    public var backward: Int

    public init(forward: Int, backward: Int) {
        self.forward = forward
        self.backward = backward
    }
}

/// A known circuit of the task and the evidence that it is genuine.
public struct CircuitTruthFindings: Codable, Sendable, Equatable {
    /// Its node ids, and its edge ids when known.
    public var nodes: [String], edges: [String]
    /// Normalised metric with only the circuit kept (everything else ablated).
    public var faithfulness: Double
    /// Normalised metric left with the circuit itself ablated.
    public var completeness: Double
    /// For each node, the loss of normalised metric when it alone is dropped from the circuit.
    public var drops: [CircuitNodeDrop]
    /// How the circuit was established (e.g. the command that reproduces it), or its file.
    public var source: String

    public init(nodes: [String], edges: [String], faithfulness: Double, completeness: Double, drops: [CircuitNodeDrop], source: String) {
        self.nodes = nodes
        self.edges = edges
        self.faithfulness = faithfulness
        self.completeness = completeness
        self.drops = drops
        self.source = source
    }
}

/// The loss of normalised metric when one node is dropped from a circuit.
public struct CircuitNodeDrop: Codable, Sendable, Equatable {
    public var id: String
    public var drop: Double

    public init(id: String, drop: Double) {
        self.id = id
        self.drop = drop
    }
}

/// What one head does on a task: where it attends on the shown prompts, and the dictionary features its output writes.
public struct CircuitHeadFindings: Codable, Sendable, Equatable {
    /// `a{L}.h{H}`.
    public var id: String
    public var layer: Int, head: Int
    /// One attention pattern per shown prompt (clean), `[T][T]` (query, key), rounded to 3 decimals.
    public var patterns: [[[Double]]]
    /// The features of a report dictionary reading the residual stream after the head that its mean
    /// output at the last position excites most (empty when the report has none).
    public var features: [CircuitHeadFeature]

    public init(id: String, layer: Int, head: Int, patterns: [[[Double]]], features: [CircuitHeadFeature]) {
        self.id = id
        self.layer = layer
        self.head = head
        self.patterns = patterns
        self.features = features
    }
}

/// A dictionary feature a head writes to: the head's mean output projected on the feature's encoder direction.
public struct CircuitHeadFeature: Codable, Sendable, Equatable {
    /// The dictionary's id in the atlas (`DictionaryFindings.id`) and the feature's index.
    public var dictionary: String
    public var feature: Int
    /// (mean head output at the last position) · (feature's encoder column).
    public var weight: Double

    public init(dictionary: String, feature: Int, weight: Double) {
        self.dictionary = dictionary
        self.feature = feature
        self.weight = weight
    }
}
