import Foundation
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// The prompt pairs of a circuit task: a toy-world task by name, or a JSON Lines task file.
public enum CircuitTask {
    /// The names of the toy-world tasks.
    public static var toyTaskNames: [String] { ToyWorld().tasks.map(\.name) }

    /// The pairs of `task`: for a toy task (`ioi`, `greater_than`, `counting`, `induction`, `docstring`),
    /// `examples` examples drawn from `SeededRandom(seed:)` (the model must be a toy-world model);
    /// otherwise the task file at that path, tokenised with the tokenizer in `modelDirectory`
    /// (see `CircuitTaskFile`).
    public static func pairs(
        _ task: String, model: GPT2Model, modelDirectory: URL, examples: Int, seed: UInt64, prependBOS: Bool
    ) throws -> [TaskExample] {
        let world = ToyWorld()
        if let toy = world.task(named: task) {
            guard model.config.vocabularySize == world.vocabulary.count else {
                throw CircuitError.invalidInput(
                    reason: "task '\(task)' is a toy-world task, but the model's vocabulary has \(model.config.vocabularySize) tokens, the toy world's \(world.vocabulary.count)")
            }
            guard examples > 0 else { throw CircuitError.invalidInput(reason: "--examples must be positive") }
            var rng = SeededRandom(seed: seed)
            return toy.examples(count: examples, rng: &rng)
        }
        let url = URL(fileURLWithPath: task)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CircuitError.unknownTask(name: task, known: world.tasks.map(\.name))
        }
        let tokenizer = try TokenizerLoader.load(directory: modelDirectory)
        return try CircuitTaskFile.load(url: url, tokenizer: tokenizer, prependBOS: prependBOS, contextLength: model.config.contextLength)
    }
}
