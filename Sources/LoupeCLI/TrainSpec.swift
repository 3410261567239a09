import Foundation
import LoupeCore
import LoupeModel
import LoupeReport

/// A training run described by a YAML file (`loupe train SPEC`):
///
/// ```yaml
/// output: model            # checkpoint directory, relative to the spec
/// seed: 1
/// model: {layers: 4, width: 128, heads: 4, mlp_width: 512, context: 64, activation: gelu_new}
/// data: {source: toy_world}
/// training: {steps: 6000, batch_size: 32, learning_rate: 0.002, warmup_steps: 100,
///            final_lr_fraction: 0.1, weight_decay: 0.1, beta1: 0.9, beta2: 0.95,
///            gradient_clip: 1.0, checkpoint_every: 500}
/// evaluation: {examples: 500}
/// ```
public struct TrainSpec {
    /// Where checkpoints go (absolute).
    var output: URL
    var seed: UInt64
    var config: GPT2Config
    var optimizer: OptimizerSettings
    var batchSize, checkpointEvery: Int
    /// Held-out prompts per task evaluated after training.
    var evaluationExamples: Int

    static let dataSources = ["toy_world"]

    /// Reads and validates the spec; every error names the file and the key.
    /// `minimumContext` is the shortest `model.context` the data's tasks fit in.
    public static func load(url: URL, vocabularySize: Int, minimumContext: Int = 2) throws -> TrainSpec {
        let spec = try SpecReader.load(url: url)
        try spec.rejectUnknownKeys(["output", "seed", "model", "data", "training", "evaluation"])
        let base = url.deletingLastPathComponent()
        let output = URL(fileURLWithPath: try spec.string("output"), relativeTo: base).standardizedFileURL
        let seed = UInt64(try spec.integer("seed", default: 0, range: 0...Int.max))

        let model = try spec.section("model")
        try model.rejectUnknownKeys(["layers", "width", "heads", "mlp_width", "context", "activation", "layer_norm_epsilon"])
        let width = try model.integer("width", range: 1...16384)
        let heads = try model.integer("heads", range: 1...1024)
        guard width % heads == 0 else { throw model.invalid("heads", "width \(width) is not divisible by \(heads) heads") }
        let activationName = try model.string("activation", default: "gelu_new", allowed: GPT2Config.activationNames.keys.sorted())
        let config = GPT2Config(
            vocabularySize: vocabularySize,
            contextLength: try model.integer("context", range: minimumContext...8192),
            width: width, heads: heads,
            layers: try model.integer("layers", range: 1...256),
            mlpWidth: try model.integer("mlp_width", default: 4 * width, range: 1...65536),
            layerNormEpsilon: Float(try model.number("layer_norm_epsilon", default: 1e-5, range: 1e-12...1)),
            activation: GPT2Config.activationNames[activationName] ?? .geluTanh)

        let data = try spec.section("data")
        try data.rejectUnknownKeys(["source"])
        _ = try data.string("source", default: "toy_world", allowed: dataSources)

        let training = try spec.section("training")
        try training.rejectUnknownKeys([
            "steps", "batch_size", "learning_rate", "warmup_steps", "final_lr_fraction", "weight_decay",
            "beta1", "beta2", "epsilon", "gradient_clip", "checkpoint_every",
        ])
        var settings = OptimizerSettings()
        settings.totalSteps = try training.integer("steps")
        settings.learningRate = Float(try training.number("learning_rate", default: 2e-3, range: 1e-8...1))
        settings.warmupSteps = try training.integer("warmup_steps", default: 100, range: 0...Int.max)
        guard settings.warmupSteps < settings.totalSteps else {
            throw training.invalid("warmup_steps", "\(settings.warmupSteps) is not below steps (\(settings.totalSteps))")
        }
        settings.finalFraction = Float(try training.number("final_lr_fraction", default: 0.1, range: 0...1))
        settings.weightDecay = Float(try training.number("weight_decay", default: 0.1, range: 0...10))
        settings.beta1 = Float(try training.number("beta1", default: 0.9, range: 0...0.999999))
        settings.beta2 = Float(try training.number("beta2", default: 0.95, range: 0...0.999999))
        settings.epsilon = Float(try training.number("epsilon", default: 1e-8, range: 1e-12...1))
        settings.gradientClip = Float(try training.number("gradient_clip", default: 1, range: 0...1e6))

        let evaluation = try spec.section("evaluation")
        try evaluation.rejectUnknownKeys(["examples"])
        return TrainSpec(
            output: output, seed: seed, config: config, optimizer: settings,
            batchSize: try training.integer("batch_size", range: 1...65536),
            checkpointEvery: try training.integer("checkpoint_every", default: 500),
            evaluationExamples: try evaluation.integer("examples", default: 500, range: 1...1_000_000))
    }
}
