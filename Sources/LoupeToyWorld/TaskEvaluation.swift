import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel

/// Accuracy and logit difference of a model on a task's examples.
public struct TaskScore: Sendable, Codable, Equatable {
    /// The task's name.
    public var task: String
    /// Fraction of examples answered correctly (see `TaskEvaluation.score`).
    public var accuracy: Double
    /// Mean logit difference (correct − wrong); for greater-than the mean probability difference.
    public var logitDiff: Double
    /// Number of examples.
    public var n: Int

    /// The JSON keys of a score (`loupe eval-tasks` prints one object per line).
    enum CodingKeys: String, CodingKey {
        case task, accuracy, logitDiff = "logit_diff", n
    }

    /// `{"accuracy":…,"logit_diff":…,"n":…,"task":…}` with the figures rounded to 4 decimals.
    public func jsonLine() throws -> String {
        let rounded = { (value: Double) in (value * 10_000).rounded() / 10_000 }
        return try JSONWriter.line(TaskScore(task: task, accuracy: rounded(accuracy), logitDiff: rounded(logitDiff), n: n))
    }
}

/// Scores a model on toy-task examples from its next-token logits at the last prompt position.
public enum TaskEvaluation {
    /// Largest number of prompts per forward pass.
    public static let batchSize = 64

    /// Seed of the held-out evaluation prompts, a stream training batches never draw from.
    public static let heldOutSeed: UInt64 = 0xE7A1_0000_0000_0001

    /// Scores `model` on every task of `world` with `examples` held-out prompts per task (task `i`'s
    /// prompts drawn from `heldOutSeed + i`); `progress` is called after each task with the count done.
    public static func heldOutScores(
        model: GPT2Model, world: ToyWorld, examples: Int, progress: (Int) -> Void = { _ in }
    ) throws -> [TaskScore] {
        var scores: [TaskScore] = []
        for (index, task) in world.tasks.enumerated() {
            var rng = SeededRandom(seed: heldOutSeed &+ UInt64(index))
            let prompts = (0..<examples).map { _ in task.example(rng: &rng) }
            scores.append(try evaluate(model: model, task: task, examples: prompts))
            progress(index + 1)
        }
        return scores
    }

    /// Runs every example's clean prompt through the model (prompts of equal length batched together) and
    /// scores the last position's logits with `score`. With no examples, accuracy and logitDiff are 0.
    /// Throws `ModelError.invalidInput` for an empty prompt, `tokenOutOfRange` for an id (prompt or answer)
    /// outside the model's vocabulary, and the model's errors (e.g. a prompt longer than its context).
    public static func evaluate(model: GPT2Model, task: any ToyTask, examples: [TaskExample]) throws -> TaskScore {
        let vocabularySize = model.config.vocabularySize
        for example in examples {
            guard !example.clean.isEmpty else { throw ModelError.invalidInput(reason: "a \(task.name) example has an empty prompt") }
            for id in example.clean + example.correct + example.wrong where id < 0 || id >= vocabularySize {
                throw ModelError.tokenOutOfRange(id: id, vocabularySize: vocabularySize)
            }
        }
        var correctCount = 0
        var diffSum = 0.0
        for batch in batches(examples) {
            let logits = try lastLogits(model: model, prompts: batch.map { examples[$0].clean })
            for (row, index) in batch.enumerated() {
                let result = score(logits: logits[row], example: examples[index], task: task.name)
                if result.correct { correctCount += 1 }
                diffSum += result.diff
            }
        }
        let n = examples.count
        return TaskScore(
            task: task.name,
            accuracy: n == 0 ? 0 : Double(correctCount) / Double(n),
            logitDiff: n == 0 ? 0 : diffSum / Double(n),
            n: n)
    }

    /// Scores one example from the `[V]` logits at its last prompt position.
    ///
    /// For `greater_than`: with p the softmax over all of `logits`, `diff` = Σ p(correct) − Σ p(wrong) (the
    /// probability difference) and the answer is correct when that is positive. For every other task:
    /// `diff` = max logit over `correct` − max logit over `wrong` (for one-token answers, the logit
    /// difference) and the answer is correct when that is positive. Ids outside `logits` are ignored; if
    /// `correct` or `wrong` has none left, the result is `(false, 0)`.
    public static func score(logits: [Float], example: TaskExample, task: String) -> (correct: Bool, diff: Double) {
        let correct = example.correct.filter { $0 >= 0 && $0 < logits.count }
        let wrong = example.wrong.filter { $0 >= 0 && $0 < logits.count }
        guard !correct.isEmpty, !wrong.isEmpty else { return (false, 0) }
        if task == GreaterThanTask.taskName {
            let maximum = Double(logits.max() ?? 0)
            var total = 0.0
            for value in logits { total += exp(Double(value) - maximum) }
            func mass(_ ids: [Int]) -> Double {
                ids.reduce(0.0) { $0 + exp(Double(logits[$1]) - maximum) } / total
            }
            let diff = mass(correct) - mass(wrong)
            return (diff > 0, diff)
        }
        let best = correct.map { Double(logits[$0]) }.max() ?? 0
        let rival = wrong.map { Double(logits[$0]) }.max() ?? 0
        return (best > rival, best - rival)
    }

    /// Example indices grouped by prompt length (groups in order of first appearance), split into batches.
    private static func batches(_ examples: [TaskExample]) -> [[Int]] {
        var groups: [[Int]] = []
        var groupOfLength: [Int: Int] = [:]
        for (index, example) in examples.enumerated() {
            if let group = groupOfLength[example.clean.count] {
                groups[group].append(index)
            } else {
                groupOfLength[example.clean.count] = groups.count
                groups.append([index])
            }
        }
        return groups.flatMap { group in
            stride(from: 0, to: group.count, by: batchSize).map { Array(group[$0..<min($0 + batchSize, group.count)]) }
        }
    }

    /// The `[V]` logits at the last position of each prompt (all of one length).
    private static func lastLogits(model: GPT2Model, prompts: [[Int]]) throws -> [[Float]] {
        guard let logits = try model.forward(prompts).logits else {
            throw ModelError.invalidInput(reason: "the forward pass returned no logits")
        }
        let length = prompts[0].count
        let vocabularySize = logits.shape.last ?? 0
        return (0..<prompts.count).map { row in
            let start = (row * length + length - 1) * vocabularySize
            return Array(logits.scalars[start..<(start + vocabularySize)])
        }
    }
}
