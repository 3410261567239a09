import Foundation
import LoupeCore

/// One optimisation step as recorded in the training log.
public struct TrainingRecord: Sendable, Equatable {
    /// 1-based step number.
    public var step: Int
    /// Mean cross-entropy of the step's batch.
    public var loss: Float
    /// Learning rate used.
    public var learningRate: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    /// Tokens of the batch divided by the step's wall-clock time.
    public var tokensPerSecond: Double
}

/// Trains a GPT-2 model with AdamW on next-token cross-entropy, and writes and resumes
/// checkpoints in the Hugging Face layout.
///
/// A checkpoint directory holds `config.json` + `model.safetensors` (readable by Hugging Face and
/// by `GPT2Model.load`), `optimizer.safetensors` (both AdamW moments, with the step in its
/// metadata) and `training_log.csv` (one line per step: the loss curve).
public struct Trainer: Sendable {
    /// The model being trained.
    public private(set) var model: GPT2Model
    /// Optimiser state.
    public private(set) var optimizer: AdamWOptimizer
    /// Every step so far.
    public private(set) var log: [TrainingRecord] = []

    public static let optimizerFile = "optimizer.safetensors"
    public static let logFile = "training_log.csv"

    /// A trainer starting from `model` with fresh optimiser state.
    public init(model: GPT2Model, settings: OptimizerSettings) {
        self.model = model
        optimizer = AdamWOptimizer(settings: settings, config: model.config)
    }

    /// Steps taken so far.
    public var step: Int { optimizer.step }

    /// One AdamW step on a batch: `inputs` and `targets` are `B` sequences of `T` ids.
    @discardableResult
    public mutating func step(inputs: [[Int]], targets: [[Int]]) throws -> TrainingRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let (loss, gradients) = try model.lossAndGradients(inputs: inputs, targets: targets)
        guard loss.isFinite else {
            throw ModelError.invalidInput(reason: "training diverged: loss is \(loss) at step \(step + 1); lower the learning rate")
        }
        let update = optimizer.apply(gradients.parameters, to: &model.weights)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let record = TrainingRecord(
            step: step, loss: loss, learningRate: update.learningRate, gradientNorm: update.gradientNorm,
            tokensPerSecond: Double(inputs.count * (inputs.first?.count ?? 0)) / seconds)
        log.append(record)
        return record
    }

    /// Writes the model, the optimiser state and the log into `directory`. The optimiser file is
    /// written last, so a checkpoint is complete exactly when its step matches the log's.
    public func saveCheckpoint(to directory: URL) throws {
        try model.save(to: directory)
        let lines = ["step,loss,learning_rate,gradient_norm,tokens_per_second"] + log.map {
            "\($0.step),\($0.loss),\($0.learningRate),\($0.gradientNorm),\(String(format: "%.1f", $0.tokensPerSecond))"
        }
        do {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent(Self.logFile), options: .atomic)
        } catch {
            throw CoreError.unwritableFile(path: directory.appendingPathComponent(Self.logFile).path, reason: error.localizedDescription)
        }
        try SafetensorsWriter.write(
            optimizer.stateTensors, to: directory.appendingPathComponent(Self.optimizerFile), metadata: ["step": String(step)])
    }

    /// Resumes from a checkpoint directory written by `saveCheckpoint`, or returns `nil` when the
    /// directory holds no optimiser state. The checkpoint's model must have `config`'s shape.
    public static func resume(from directory: URL, config: GPT2Config, settings: OptimizerSettings) throws -> Trainer? {
        let optimizerURL = directory.appendingPathComponent(optimizerFile)
        guard FileManager.default.fileExists(atPath: optimizerURL.path) else { return nil }
        let model = try GPT2Model.load(directory: directory)
        guard model.config == config else {
            throw ModelError.invalidConfig(
                path: directory.appendingPathComponent(ModelFiles.config).path, key: nil,
                reason: "the checkpoint's model shape differs from the training spec; remove the directory or restart")
        }
        let state = try SafetensorsFile(url: optimizerURL)
        guard let stepText = state.metadata["step"], let step = Int(stepText), step >= 0 else {
            throw CoreError.corruptSafetensors(path: optimizerURL.path, reason: "metadata lacks the step number")
        }
        var trainer = Trainer(model: model, settings: settings)
        try trainer.optimizer.restore(from: state, step: step)
        trainer.log = try readLog(directory.appendingPathComponent(logFile)).filter { $0.step <= step }
        guard trainer.log.count == step else {
            throw ModelError.invalidInput(reason: "\(directory.appendingPathComponent(logFile).path) has \(trainer.log.count) steps, the optimiser state \(step)")
        }
        return trainer
    }

    private static func readLog(_ url: URL) throws -> [TrainingRecord] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CoreError.unreadableFile(path: url.path, reason: "missing")
        }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst().enumerated().map { index, line in
            let fields = line.split(separator: ",").map(String.init)
            guard fields.count == 5, let step = Int(fields[0]), let loss = Float(fields[1]), let rate = Float(fields[2]),
                  let norm = Float(fields[3]), let speed = Double(fields[4])
            else {
                throw CoreError.unreadableFile(path: url.path, reason: "line \(index + 2) is not step,loss,learning_rate,gradient_norm,tokens_per_second")
            }
            return TrainingRecord(step: step, loss: loss, learningRate: rate, gradientNorm: norm, tokensPerSecond: speed)
        }
    }
}
