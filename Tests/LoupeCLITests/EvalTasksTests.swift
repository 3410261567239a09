import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeCLI

/// `loupe eval-tasks`: one JSON line per task, and a clear error for a model of another vocabulary.
@Suite struct EvalTasksTests {
    @Test func scoresEveryTaskOfAToyWorldModel() throws {
        let world = ToyWorld()
        let config = GPT2Config(vocabularySize: world.vocabulary.count, contextLength: 40, width: 16, heads: 2, layers: 1)
        let scores = try TaskEvaluator.scores(
            model: GPT2Model(config: config, weights: .random(config: config, seed: 1)), world: world, examples: 6, quiet: true)
        #expect(scores.map(\.task) == ["ioi", "greater_than", "counting", "induction", "docstring"])
        for score in scores {
            #expect(score.n == 6 && (0...1).contains(score.accuracy) && score.logitDiff.isFinite)
            let line = TaskEvaluator.jsonLine(score)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["task", "accuracy", "logit_diff", "n"])
        }
    }

    @Test func aModelOfAnotherVocabularyIsRejected() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/gpt2-bare")
        var command = try LoupeCommand.parseAsRoot(["eval-tasks", "--model", directory.path, "--quiet"])
        #expect(throws: CLIError.self) { try command.run() }
    }
}
