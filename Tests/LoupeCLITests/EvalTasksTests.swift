import Foundation
import Testing
@testable import LoupeCLI

/// `loupe eval-tasks`: a clear error for a model of another vocabulary.
@Suite struct EvalTasksTests {
    @Test func aModelOfAnotherVocabularyIsRejected() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/gpt2-bare")
        var command = try LoupeCommand.parseAsRoot(["eval-tasks", "--model", directory.path, "--quiet"])
        #expect(throws: CLIError.self) { try command.run() }
    }
}
