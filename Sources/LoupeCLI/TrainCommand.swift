import ArgumentParser
import Foundation
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// `loupe train SPEC`: trains a GPT-2 model on the toy world as a YAML spec describes, writing
/// Hugging Face checkpoints, a loss log and task scores; resumes from the last checkpoint.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a GPT-2 model from a YAML spec (resumes from the last checkpoint in its output directory).")

    @Argument(help: "The training spec (YAML).")
    var spec: String

    @Flag(help: "Ignore an existing checkpoint and start from scratch.")
    var restart = false

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let world = ToyWorld()
        let spec = try TrainSpec.load(url: URL(fileURLWithPath: self.spec), vocabularySize: world.vocabulary.count,
                                      minimumContext: ToyWorld.longestTaskLength)
        var trainer = try restart ? nil : Trainer.resume(from: spec.output, config: spec.config, settings: spec.optimizer)
        if let trainer {
            log("resuming \(spec.output.path) at step \(trainer.step) of \(spec.optimizer.totalSteps)")
        } else {
            trainer = Trainer(model: GPT2Model(config: spec.config, weights: .random(config: spec.config, seed: spec.seed)),
                              settings: spec.optimizer)
        }
        guard var trainer else { return }
        try FileManager.default.createDirectory(at: spec.output, withIntermediateDirectories: true)
        try world.tokenizer.write(to: spec.output.appendingPathComponent(CharacterTokenizer.fileName))

        let progress = ProgressLine("training", total: spec.optimizer.totalSteps, quiet: progressOptions.quiet)
        let first = trainer.step
        while trainer.step < spec.optimizer.totalSteps {
            let (inputs, targets) = Self.batch(world: world, spec: spec, step: trainer.step)
            let record = try trainer.step(inputs: inputs, targets: targets)
            progress.update(trainer.step, detail: String(format: "loss %.3f, %.0f tokens/s", record.loss, record.tokensPerSecond), startedAt: first)
            if trainer.step % spec.checkpointEvery == 0 || trainer.step == spec.optimizer.totalSteps {
                try trainer.saveCheckpoint(to: spec.output)
            }
        }
        progress.finish()
        let evaluation = ProgressLine("evaluating", total: world.tasks.count, unit: "tasks", quiet: progressOptions.quiet)
        let scores = try TaskEvaluation.heldOutScores(
            model: trainer.model, world: world, examples: spec.evaluationExamples, progress: { evaluation.update($0) })
        evaluation.finish()
        let lines = try scores.map { try $0.jsonLine() }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: spec.output.appendingPathComponent("evaluation.jsonl"), options: .atomic)
        lines.forEach { print($0) }
    }

    /// The batch of step `step`: `batchSize` toy-world sequences of `context + 1` tokens, split into
    /// inputs and next-token targets. Drawn from a generator seeded by (seed, step) alone, so a
    /// resumed run sees exactly the batches an uninterrupted one would.
    static func batch(world: ToyWorld, spec: TrainSpec, step: Int) -> (inputs: [[Int]], targets: [[Int]]) {
        var rng = SeededRandom(seed: spec.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step))
        let sequences = (0..<spec.batchSize).map { _ in world.sequence(length: spec.config.contextLength + 1, rng: &rng) }
        return (sequences.map { Array($0.dropLast()) }, sequences.map { Array($0.dropFirst()) })
    }

    private func log(_ message: String) {
        if !progressOptions.quiet { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }
}
