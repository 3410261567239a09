import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel

/// `loupe eval-tasks --model DIR`: accuracy and logit difference of a toy-world model on every task.
public struct EvalTasksCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "eval-tasks",
        abstract: "Score a toy-world model on its tasks: one JSON object per line per task.",
        discussion: """
            accuracy: fraction of held-out prompts whose correct answer outranks the wrong one (greater_than: \
            probability mass on years above the start year exceeds the rest). logit_diff: mean logit of the \
            correct minus the wrong answer (greater_than: mean probability difference).
            """)

    @Option(help: "A model trained on the toy world (config.json, model.safetensors).")
    var model: String

    @Option(help: "Held-out prompts per task.")
    var examples: Int = 500

    @Flag(help: "No progress line.")
    var quiet = false

    public init() {}

    public func validate() throws {
        guard examples > 0 else { throw ValidationError("--examples must be positive") }
    }

    public func run() throws {
        let world = ToyWorld()
        let gpt2 = try GPT2Model.load(directory: URL(fileURLWithPath: model))
        guard gpt2.config.vocabularySize == world.vocabulary.count else {
            throw CLIError.invalidOption(
                name: "--model",
                reason: "\(model) has a vocabulary of \(gpt2.config.vocabularySize) tokens, the toy world \(world.vocabulary.count): not a toy-world model")
        }
        for score in try TaskEvaluator.scores(model: gpt2, world: world, examples: examples, quiet: quiet) {
            print(TaskEvaluator.jsonLine(score))
        }
    }
}

/// Scores a model on every toy-world task with held-out prompts.
enum TaskEvaluator {
    /// Seed of the evaluation prompts, a stream the training batches never draw from.
    static let heldOutSeed: UInt64 = 0xE7A1_0000_0000_0001

    static func scores(model: GPT2Model, world: ToyWorld, examples: Int, quiet: Bool) throws -> [TaskScore] {
        let progress = ProgressLine("evaluating", total: world.tasks.count, unit: "tasks", quiet: quiet)
        var scores: [TaskScore] = []
        for (index, task) in world.tasks.enumerated() {
            var rng = SeededRandom(seed: heldOutSeed &+ UInt64(index))
            let prompts = (0..<examples).map { _ in task.example(rng: &rng) }
            scores.append(try TaskEvaluation.evaluate(model: model, task: task, examples: prompts))
            progress.update(index + 1)
        }
        progress.finish()
        return scores
    }

    /// `{"task": …, "accuracy": …, "logit_diff": …, "n": …}`.
    static func jsonLine(_ score: TaskScore) -> String {
        "{\"task\": \"\(score.task)\", \"accuracy\": \(String(format: "%.4f", score.accuracy)), \"logit_diff\": \(String(format: "%.4f", score.logitDiff)), \"n\": \(score.n)}"
    }
}
