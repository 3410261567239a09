import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeFindings

/// `loupe circuit`: scores the heads, MLPs and edges that carry a task's behaviour with one method.
struct CircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit", abstract: "Score the nodes and edges of a model's circuit for a task with one method; write JSON.",
        discussion: """
            TASK is a toy-world task (ioi, greater_than, counting, induction, docstring) or a JSON Lines file of \
            {"clean", "corrupted", "answer", "wrong_answer"} pairs. Scores are changes of the logit difference \
            (answer − wrong answer at the last position), averaged over pairs. Methods: patching, attribution \
            (nodes); eap, eap-ig, sae-codes (edges and nodes).
            """)

    @OptionGroup var circuit: CircuitTaskOptions

    @Option(help: "patching, attribution, eap, eap-ig or sae-codes.")
    var method: String

    @Option(help: "The JSON file to write.")
    var output: String

    @Option(help: "Interpolation steps of eap-ig.")
    var igSteps: Int = 5

    @OptionGroup var progress: ProgressOptions

    @Option(help: "A known circuit ({\"nodes\": [...], \"edges\": [...]}) to score the method against (ROC AUC).")
    var groundTruth: String?

    func validate() throws {
        guard igSteps >= 1 else { throw ValidationError("--ig-steps must be at least 1") }
        guard CircuitMethod(rawValue: method) != nil else { throw ValidationError(CircuitError.unknownMethod(name: method).description) }
    }

    func run() throws {
        let (gpt2, pairs) = try circuit.load()
        let analysis = CircuitAnalysis(model: gpt2, igSteps: igSteps, seed: circuit.seed)
        let truth = try groundTruth.map { try CircuitGroundTruth.load(url: URL(fileURLWithPath: $0), graph: analysis.graph) }
        var line: ProgressLine?
        var result = try analysis.run(CircuitMethod(rawValue: method)!, task: circuit.task, pairs: pairs) { done, total in
            if line == nil { line = ProgressLine(method, total: total, quiet: progress.quiet) }
            line?.update(done)
        }
        line?.finish()
        if let truth { result = truth.scoring(result) }
        try JSONOutput.write(result, to: output)
    }
}
