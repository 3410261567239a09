import Foundation
import LoupeCore
import LoupeModel
import LoupeReport
import Testing
@testable import LoupeCLI

/// The training spec: valid files parse, invalid ones name the key.
@Suite struct TrainSpecTests {
    static let valid = """
        output: out
        seed: 3
        model: {layers: 2, width: 32, heads: 4, mlp_width: 64, context: 40}
        data: {source: toy_world}
        training: {steps: 20, batch_size: 4, learning_rate: 0.001, warmup_steps: 2, checkpoint_every: 10}
        evaluation: {examples: 8}
        """

    func write(_ text: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("train.yaml")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func aValidSpecParsesWithPathsRelativeToIt() throws {
        let url = try write(Self.valid)
        let spec = try TrainSpec.load(url: url, vocabularySize: 50)
        #expect(spec.output.path == url.deletingLastPathComponent().appendingPathComponent("out").path)
        #expect(spec.config.layers == 2 && spec.config.width == 32 && spec.config.mlpWidth == 64 && spec.config.contextLength == 40)
        #expect(spec.optimizer.totalSteps == 20 && spec.optimizer.learningRate == 0.001 && spec.optimizer.warmupSteps == 2)
        #expect(spec.batchSize == 4 && spec.checkpointEvery == 10 && spec.evaluationExamples == 8)
    }

    @Test(arguments: [
        ("layers: 2", "layers: 0", "model.layers"),
        ("heads: 4", "heads: 5", "model.heads"),
        ("learning_rate: 0.001", "learning_rate: fast", "training.learning_rate"),
        ("batch_size: 4", "batch_sise: 4", "training.batch_sise"),
        ("warmup_steps: 2", "warmup_steps: 50", "training.warmup_steps"),
        ("source: toy_world", "source: wikipedia", "data.source"),
        ("steps: 20,", "steps: -1,", "training.steps"),
        ("seed: 3", "seed: [1, 2]", "seed"),
        ("context: 40", "context: 20", "model.context"),
    ])
    func invalidValuesNameTheirKey(original: String, replacement: String, key: String) throws {
        let url = try write(Self.valid.replacingOccurrences(of: original, with: replacement))
        do {
            _ = try TrainSpec.load(url: url, vocabularySize: 50, minimumContext: 34)
            Issue.record("accepted \(replacement)")
        } catch {
            #expect("\(error)".contains("'\(key)'"), "\(error)")
            #expect("\(error)".contains(url.path))
        }
    }

    @Test func brokenYAMLAndMissingFilesAreReported() throws {
        let broken = try write("model: {layers: 2\n  width: [")
        #expect(throws: BuildError.self) { try TrainSpec.load(url: broken, vocabularySize: 50) }
        let list = try write("- 1\n- 2\n")
        #expect(throws: BuildError.self) { try TrainSpec.load(url: list, vocabularySize: 50) }
        #expect(throws: BuildError.self) { try TrainSpec.load(url: URL(fileURLWithPath: "/nonexistent/train.yaml"), vocabularySize: 50) }
    }

    @Test func trainingFromASpecWritesACheckpointAndResumes() throws {
        let url = try write(Self.valid.replacingOccurrences(of: "steps: 20", with: "steps: 4").replacingOccurrences(of: "checkpoint_every: 10", with: "checkpoint_every: 2"))
        var command = try LoupeCommand.parseAsRoot(["train", url.path, "--quiet"])
        try command.run()
        let output = url.deletingLastPathComponent().appendingPathComponent("out")
        for file in ["config.json", "model.safetensors", "optimizer.safetensors", "training_log.csv", "loupe_tokenizer.json", "evaluation.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(file)")
        }
        let scores = try String(contentsOf: output.appendingPathComponent("evaluation.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(scores.count == 5)
        #expect(scores.allSatisfy { $0.contains("\"accuracy\"") && $0.contains("\"logit_diff\"") && $0.contains("\"n\":8") })
        // A second run finds the finished checkpoint and takes no further step.
        var again = try LoupeCommand.parseAsRoot(["train", url.path, "--quiet"])
        try again.run()
        let log = try String(contentsOf: output.appendingPathComponent("training_log.csv"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 5)
    }
}
