import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeToyWorld

@Suite("ToyWorld: task evaluation")
struct ToyWorldEvaluationTests {
    let world = ToyWorld()

    @Test func randomModelGivesFiniteScores() throws {
        let config = GPT2Config(vocabularySize: world.vocabulary.count, contextLength: 64, width: 32, heads: 4, layers: 2)
        let model = GPT2Model(config: config, weights: GPT2Weights.random(config: config, seed: 5))
        var rng = SeededRandom(seed: 1)
        for task in world.tasks {
            let examples = task.examples(count: 70, rng: &rng)
            let score = try TaskEvaluation.evaluate(model: model, task: task, examples: examples)
            #expect(score.task == task.name)
            #expect(score.n == examples.count)
            #expect(score.accuracy.isFinite && score.accuracy >= 0 && score.accuracy <= 1)
            #expect(score.logitDiff.isFinite)
            if task.name == "greater_than" { #expect(abs(score.logitDiff) <= 1) }
        }
        let empty = try TaskEvaluation.evaluate(model: model, task: world.tasks[0], examples: [])
        #expect(empty == TaskScore(task: "ioi", accuracy: 0, logitDiff: 0, n: 0))
    }

    @Test func evaluationMatchesScoringEachPromptAlone() throws {
        let config = GPT2Config(vocabularySize: world.vocabulary.count, contextLength: 64, width: 16, heads: 2, layers: 1)
        let model = GPT2Model(config: config, weights: GPT2Weights.random(config: config, seed: 9))
        var rng = SeededRandom(seed: 2)
        let task = world.tasks[3]
        let examples = task.examples(count: 12, rng: &rng)
        var correct = 0
        var diff = 0.0
        for example in examples {
            let logits = try #require(try model.forward([example.clean]).logits)
            let last = Array(logits.scalars.suffix(world.vocabulary.count))
            let result = TaskEvaluation.score(logits: last, example: example, task: task.name)
            correct += result.correct ? 1 : 0
            diff += result.diff
        }
        let score = try TaskEvaluation.evaluate(model: model, task: task, examples: examples)
        #expect(score.accuracy == Double(correct) / 12)
        #expect(abs(score.logitDiff - diff / 12) < 1e-4)
    }

    @Test func rejectsIDsOutsideTheModel() throws {
        let config = GPT2Config(vocabularySize: 10, contextLength: 64, width: 16, heads: 2, layers: 1)
        let model = GPT2Model(config: config, weights: GPT2Weights.random(config: config, seed: 1))
        let example = TaskExample(clean: [0, 3], corrupted: [0, 4], correct: [12], wrong: [2])
        #expect(throws: ModelError.tokenOutOfRange(id: 12, vocabularySize: 10)) {
            try TaskEvaluation.evaluate(model: model, task: world.tasks[0], examples: [example])
        }
        let empty = TaskExample(clean: [], corrupted: [], correct: [1], wrong: [2])
        #expect(throws: ModelError.self) {
            try TaskEvaluation.evaluate(model: model, task: world.tasks[0], examples: [empty])
        }
    }

    @Test func scoresSingleTokenAnswersByLogitDifference() {
        let example = TaskExample(clean: [0, 1], corrupted: [0, 2], correct: [2], wrong: [3])
        var logits: [Float] = [0, 5, 1.5, -0.5]
        var result = TaskEvaluation.score(logits: logits, example: example, task: "ioi")
        #expect(result.correct && abs(result.diff - 2) < 1e-9)
        logits[3] = 4
        result = TaskEvaluation.score(logits: logits, example: example, task: "ioi")
        #expect(!result.correct && abs(result.diff + 2.5) < 1e-9)
        // A tie is not a correct answer.
        logits[3] = 1.5
        #expect(!TaskEvaluation.score(logits: logits, example: example, task: "counting").correct)
        // Ids outside the logits are ignored; nothing left to compare gives (false, 0).
        let outside = TaskExample(clean: [0], corrupted: [0], correct: [9], wrong: [3])
        result = TaskEvaluation.score(logits: logits, example: outside, task: "ioi")
        #expect(!result.correct && result.diff == 0)
    }

    @Test func scoresGreaterThanByProbabilityMass() {
        // Vocabulary of 6: ids 1…2 are years above the start, 3…4 at or below, 0 and 5 are other tokens.
        let example = TaskExample(clean: [0, 1], corrupted: [0, 2], correct: [1, 2], wrong: [3, 4])
        let logits: [Float] = [log(2), 0, 0, log(3), -Float.infinity, log(2)]
        // Softmax over the whole vocabulary: weights 2, 1, 1, 3, 0, 2 of 9.
        let result = TaskEvaluation.score(logits: logits, example: example, task: "greater_than")
        #expect(!result.correct)
        #expect(abs(result.diff - (2.0 / 9 - 3.0 / 9)) < 1e-6)
        // The single largest logit is a wrong year, yet more mass lies above the start year.
        let spread: [Float] = [0, 2, 2, 2.5, 0, 0]
        let mass = TaskEvaluation.score(logits: spread, example: example, task: "greater_than")
        #expect(mass.correct && mass.diff > 0)
        #expect(!TaskEvaluation.score(logits: spread, example: example, task: "ioi").correct)
    }

    @Test func oracleModelIsScoredPerfect() throws {
        // A model whose last position always favours one token: it is right exactly when that token is correct.
        let config = GPT2Config(vocabularySize: world.vocabulary.count, contextLength: 64, width: 16, heads: 2, layers: 1)
        var weights = GPT2Weights.random(config: config, seed: 3)
        let favoured = try #require(world.tokenizer.id(for: "Mary"))
        let rival = try #require(world.tokenizer.id(for: "John"))
        // Final layer norm output is pushed to a constant direction; the favoured row of the tied
        // unembedding points along it, every other row is zero.
        weights.finalNormWeight = Tensor(shape: [16], repeating: 0)
        var bias = Tensor(shape: [16], repeating: 0)
        bias.scalars[0] = 1
        weights.finalNormBias = bias
        var embedding = weights.tokenEmbedding
        for row in 0..<world.vocabulary.count where row != favoured {
            embedding.scalars[(row * 16)..<((row + 1) * 16)] = ArraySlice(repeating: 0, count: 16)
        }
        embedding.scalars[favoured * 16] = 10
        weights.tokenEmbedding = embedding
        let model = GPT2Model(config: config, weights: weights)
        let right = TaskExample(clean: [0, 5, 6], corrupted: [0, 5, 7], correct: [favoured], wrong: [rival])
        let wrong = TaskExample(clean: [0, 5, 6], corrupted: [0, 5, 7], correct: [rival], wrong: [favoured])
        let score = try TaskEvaluation.evaluate(model: model, task: world.tasks[0], examples: [right, right, wrong, right])
        #expect(score.n == 4)
        #expect(score.accuracy == 0.75)
        #expect(abs(score.logitDiff - (3 * 10 - 10) / 4.0) < 1e-4)
    }
}

/// Held-out scores of every task, as `loupe eval-tasks` and `loupe train` print them.
@Suite struct HeldOutScoreTests {
    @Test func scoresEveryTaskOfAToyWorldModel() throws {
        let world = ToyWorld()
        let config = GPT2Config(vocabularySize: world.vocabulary.count, contextLength: 40, width: 16, heads: 2, layers: 1)
        var finished: [Int] = []
        let scores = try TaskEvaluation.heldOutScores(
            model: GPT2Model(config: config, weights: .random(config: config, seed: 1)), world: world, examples: 6,
            progress: { finished.append($0) })
        #expect(scores.map(\.task) == ["ioi", "greater_than", "counting", "induction", "docstring"])
        #expect(finished == [1, 2, 3, 4, 5])
        for score in scores {
            #expect(score.n == 6 && (0...1).contains(score.accuracy) && score.logitDiff.isFinite)
            let line = try score.jsonLine()
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["task", "accuracy", "logit_diff", "n"])
            #expect(object["task"] as? String == score.task)
        }
    }

    @Test func jsonLinesAreEscapedSortedAndRounded() throws {
        let score = TaskScore(task: "a \"quoted\"\ntask", accuracy: 0.123456, logitDiff: -2.000049, n: 3)
        #expect(try score.jsonLine() == #"{"accuracy":0.1235,"logit_diff":-2,"n":3,"task":"a \"quoted\"\ntask"}"#)
    }
}
