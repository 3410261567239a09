import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeModel

/// `loupe circuit`: scores the heads, MLPs and edges that carry a task's behaviour with one method.
struct CircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit",
        abstract: "Score the nodes and edges of a model's circuit for a task with one method; write JSON.",
        discussion: """
            TASK is a toy-world task (ioi, greater_than, counting, induction, docstring) or a JSON Lines file of \
            {"clean", "corrupted", "answer", "wrong_answer"} pairs. Scores are changes of the logit difference \
            (answer − wrong answer at the last position), averaged over pairs. Methods: patching, attribution \
            (nodes); eap, eap-ig, sae-codes (edges and nodes).
            """)

    @Option(help: "A Hugging Face GPT-2 model directory (config.json, model.safetensors, tokenizer).")
    var model: String

    @Option(help: "A toy-world task name or a JSON Lines task file.")
    var task: String

    @Option(help: "patching, attribution, eap, eap-ig or sae-codes.")
    var method: String

    @Option(help: "The JSON file to write.")
    var output: String

    @Option(help: "Interpolation steps of eap-ig.")
    var igSteps: Int = 5

    @Option(help: "A known circuit ({\"nodes\": [...], \"edges\": [...]}) to score the method against (ROC AUC).")
    var groundTruth: String?

    @Flag(help: "Put the beginning-of-sequence token (<|endoftext|>) before each prompt of a task file.")
    var prependBos = false

    @Option(help: "Pairs drawn for a toy task.")
    var examples: Int = 64

    @Option(help: "Seed of the toy task's pairs and of sae-codes.")
    var seed: UInt64 = 1


    func validate() throws {
        guard igSteps >= 1 else { throw ValidationError("--ig-steps must be at least 1") }
        guard examples >= 1 else { throw ValidationError("--examples must be positive") }
        guard CircuitMethod(rawValue: method) != nil else { throw ValidationError(CircuitError.unknownMethod(name: method).description) }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let gpt2 = try GPT2Model.load(directory: directory)
        let pairs = try CircuitTask.pairs(task, model: gpt2, modelDirectory: directory, examples: examples, seed: seed, prependBOS: prependBos)
        let analysis = CircuitAnalysis(model: gpt2, igSteps: igSteps, seed: seed)
        let truth = try groundTruth.map { try CircuitGroundTruth.load(url: URL(fileURLWithPath: $0), graph: analysis.graph) }
        var result = try analysis.run(CircuitMethod(rawValue: method)!, task: task, pairs: pairs)
        if let truth { result = truth.scoring(result) }
        let data = try JSONWriter.encode(result, layout: .pretty)
        do {
            try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CLIError.unwritableOutput(path: output, reason: (error as NSError).localizedDescription)
        }
    }
}
