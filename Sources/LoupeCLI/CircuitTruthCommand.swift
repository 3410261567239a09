import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeFindings

/// `loupe circuit-truth`: establishes a task's reference circuit by exhaustive node ablation and
/// greedy pruning, and writes it as a ground-truth file for `loupe circuit --ground-truth`.
struct CircuitTruthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit-truth", abstract: "Find a task's reference circuit by ablation and greedy pruning; write it as ground truth.",
        discussion: """
            Starting from every head and MLP, repeatedly knocks out the node whose removal keeps the normalised \
            logit difference highest, while it stays at or above --keep; then removes any node costing less than \
            1 % while it stays at or above 0.85. Writes {"nodes", "edges": [], "faithfulness", "completeness", \
            "drops", "command"}.
            """)

    @OptionGroup var circuit: CircuitTaskOptions

    @Option(help: "The ground-truth JSON file to write.")
    var output: String

    @Option(help: "How nodes outside the circuit are knocked out: mean, resample or zero.")
    var ablation: String = "mean"

    @Option(help: "Normalised logit difference the circuit must keep while nodes are pruned.")
    var keep: Double = 0.9

    @OptionGroup var progress: ProgressOptions

    /// The file's contents.
    private struct TruthFile: Encodable {
        var nodes, edges: [String]
        var faithfulness, completeness: Double
        var drops: [CircuitNodeDrop]
        var command: String
    }

    func validate() throws {
        guard CircuitAblation(rawValue: ablation) != nil else {
            throw ValidationError("--ablation must be one of \(CircuitAblation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard keep > 0, keep <= 1 else { throw ValidationError("--keep must be in (0, 1]") }
    }

    func run() throws {
        let (gpt2, pairs) = try circuit.load()
        let ablator = try CircuitAblator(analysis: CircuitAnalysis(model: gpt2), pairs: pairs, ablation: CircuitAblation(rawValue: ablation)!)
        let line = ProgressLine("pruning", total: ablator.analysis.graph.nodes.count, unit: "nodes", quiet: progress.quiet)
        let nodes = try CircuitTruthSearch.search(ablator: ablator, keep: keep, progress: { line.update($0) })
        line.finish()
        let evidence = try CircuitTruthSearch.evidence(of: nodes, ablator: ablator)
        var command = "loupe circuit-truth --model \(circuit.model) --task \(circuit.task) --output \(output) --ablation \(ablation)"
            + " --keep \(keep) --examples \(circuit.examples) --seed \(circuit.seed)"
        if circuit.prependBos { command += " --prepend-bos" }
        let file = TruthFile(
            nodes: nodes.map(\.id), edges: [], faithfulness: evidence.faithfulness, completeness: evidence.completeness,
            drops: evidence.drops, command: command)
        try JSONOutput.write(file, to: output)
    }
}
