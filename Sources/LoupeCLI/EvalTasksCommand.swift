import ArgumentParser
import Foundation
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// `loupe eval-tasks --model DIR`: accuracy and logit difference of a toy-world model on every task.
struct EvalTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-tasks", abstract: "Score a toy-world model on its tasks: one JSON object per line per task.",
        discussion: """
            accuracy: fraction of held-out prompts whose correct answer outranks the wrong one (greater_than: \
            probability mass on years above the start year exceeds the rest). logit_diff: mean logit of the \
            correct minus the wrong answer (greater_than: mean probability difference).
            """)

    @Option(help: "A model trained on the toy world (config.json, model.safetensors).")
    var model: String

    @Option(help: "Held-out prompts per task.")
    var examples: Int = 500

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard examples > 0 else { throw ValidationError("--examples must be positive") }
    }

    func run() throws {
        let world = ToyWorld()
        let gpt2 = try GPT2Model.load(directory: URL(fileURLWithPath: model))
        guard gpt2.config.vocabularySize == world.vocabulary.count else {
            throw CLIError.invalidOption(
                name: "--model",
                reason: "\(model) has a vocabulary of \(gpt2.config.vocabularySize) tokens, the toy world \(world.vocabulary.count): not a toy-world model")
        }
        let progress = ProgressLine("evaluating", total: world.tasks.count, unit: "tasks", quiet: progressOptions.quiet)
        let scores = try TaskEvaluation.heldOutScores(model: gpt2, world: world, examples: examples, progress: { progress.update($0) })
        progress.finish()
        for score in scores { print(try score.jsonLine()) }
    }
}
