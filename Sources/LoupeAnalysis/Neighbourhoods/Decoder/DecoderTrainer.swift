import Foundation
import LoupeCore
import LoupeModel

/// What training a decoder takes: sizes, optimisation and data.
public struct DecoderTrainingSettings: Sendable, Equatable {
    /// Body layers, width, heads and MLP width.
    public var layers = 2, width = 128, heads = 4, mlpWidth = 512
    /// Site-embedding width E and residual conditioning blocks N.
    public var siteEmbeddingWidth = 32, conditioningBlocks = 2
    /// Optimisation steps and (activation → input) pairs per step.
    public var steps = 1000, batchSize = 64
    /// AdamW with warm-up and cosine decay (`OptimizerSettings`).
    public var optimizer: OptimizerSettings
    /// Held-out pairs per site for the final evaluation.
    public var heldOutPerSite = 64
    public var seed: UInt64 = 1

    public init() {
        optimizer = OptimizerSettings()
        optimizer.learningRate = 1e-3
        optimizer.weightDecay = 0.01
        optimizer.warmupSteps = 100
    }
}

/// One optimisation step of a decoder, as in `training_log.csv`.
public struct DecoderTrainingRecord: Sendable, Equatable {
    public var step: Int
    public var loss: Float
    public var learningRate: Float
    public var gradientNorm: Float
    /// Predicted tokens of the batch (each input's tokens and its end of text).
    public var tokens: Int
    /// `tokens` per second of the step, the probed model's pass included.
    public var tokensPerSecond: Double
}

/// The held-out fit of a trained decoder: mean cross-entropy per predicted token, over all sites and per site.
public struct DecoderEvaluation: Sendable, Equatable {
    public var heldOutLoss: Double
    /// In the order of `DecoderConfig.sites`.
    public var siteLosses: [Double]
}

/// Trains an inversion decoder on pairs from a `DecoderExampleMaker` with AdamW (weight decay on
/// matrices), batches of similar lengths together so little of each step is padding.
public struct DecoderTrainer: Sendable {
    public private(set) var decoder: InversionDecoder
    public private(set) var log: [DecoderTrainingRecord] = []
    public let settings: DecoderTrainingSettings
    private let maker: DecoderExampleMaker
    private var rng: SeededRandom
    private var queue: [[DecoderExample]] = []
    private var optimizer: DecoderOptimizer

    /// Batches drawn at once and sorted by length before they are cut.
    static let bucketBatches = 8

    /// A fresh decoder over `maker`'s sites, whose per-site scales and reference activations come from
    /// 64 pairs per site drawn first.
    public init(maker: DecoderExampleMaker, settings: DecoderTrainingSettings, probedModelFingerprint: String) throws {
        guard settings.steps > 0, settings.batchSize > 0 else {
            throw DecoderError.invalidSetting(name: "training", reason: "steps and batch size must be positive")
        }
        guard settings.width % settings.heads == 0 else {
            throw DecoderError.invalidSetting(name: "model.width", reason: "\(settings.width) is not a multiple of \(settings.heads) heads")
        }
        let probed = maker.probed.config
        var rng = SeededRandom(seed: settings.seed)
        let calibration = try maker.examples(count: 64 * maker.sites.count, rng: &rng)
        var sites: [DecoderSite] = []
        let width = maker.sites.map(\.columns.count).max()!
        var reference = Tensor(shape: [maker.sites.count, width])
        for (index, site) in maker.sites.enumerated() {
            let rows = calibration.filter { $0.site == index }.map(\.activation)
            let count = Double(max(1, rows.count))
            var squares = 0.0
            for row in rows {
                for (j, value) in row.enumerated() {
                    squares += Double(value * value)
                    reference.scalars[index * width + j] += Float(Double(value) / count)
                }
            }
            let rms = (squares / (count * Double(site.columns.count))).squareRoot()
            sites.append(DecoderSite(hook: site.hook, head: site.head, width: site.columns.count, scale: rms > 0 ? Float(1 / rms) : 1))
        }
        let body = GPT2Config(
            vocabularySize: probed.vocabularySize, contextLength: probed.contextLength + 2, width: settings.width, heads: settings.heads,
            layers: settings.layers, mlpWidth: settings.mlpWidth, layerNormEpsilon: 1e-5, activation: .geluTanh)
        let config = DecoderConfig(
            body: body, sites: sites, siteEmbeddingWidth: settings.siteEmbeddingWidth, conditioningBlocks: settings.conditioningBlocks,
            prependBOS: maker.bos != nil, bosTokenID: maker.bos ?? 0, probedModelFingerprint: probedModelFingerprint)
        var decoder = InversionDecoder.random(config: config, seed: settings.seed)
        decoder.siteReference = reference
        self.decoder = decoder
        self.settings = settings
        self.maker = maker
        self.rng = rng
        var optimizerSettings = settings.optimizer
        optimizerSettings.totalSteps = settings.steps
        optimizer = DecoderOptimizer(settings: optimizerSettings, decoder: decoder)
    }

    public var step: Int { log.count }

    /// The next batch: pairs drawn `bucketBatches` batches at a time, sorted by input length, cut into
    /// batches served in a shuffled order.
    private mutating func nextBatch() throws -> [DecoderExample] {
        if queue.isEmpty {
            let drawn = try maker.examples(count: settings.batchSize * Self.bucketBatches, rng: &rng)
            let sorted = drawn.enumerated().sorted { ($0.element.tokens.count, $0.offset) < ($1.element.tokens.count, $1.offset) }.map(\.element)
            queue = stride(from: 0, to: sorted.count, by: settings.batchSize).map { Array(sorted[$0..<min(sorted.count, $0 + settings.batchSize)]) }
            for i in stride(from: queue.count - 1, to: 0, by: -1) { queue.swapAt(i, rng.nextInt(below: i + 1)) }
        }
        return queue.removeLast()
    }

    /// One AdamW step on a fresh batch.
    @discardableResult
    public mutating func trainStep() throws -> DecoderTrainingRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let batch = try nextBatch()
        let (loss, gradients) = try decoder.lossAndGradients(batch)
        guard loss.isFinite else {
            throw DecoderError.invalidSetting(name: "training.learning_rate", reason: "training diverged: loss is \(loss) at step \(step + 1); lower the learning rate")
        }
        let update = optimizer.apply(gradients, to: &decoder)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let tokens = batch.reduce(0) { $0 + $1.tokens.count + 1 }
        let record = DecoderTrainingRecord(
            step: step + 1, loss: loss, learningRate: update.learningRate, gradientNorm: update.gradientNorm, tokens: tokens,
            tokensPerSecond: Double(tokens) / seconds)
        log.append(record)
        return record
    }

    /// The held-out loss over `settings.heldOutPerSite` fresh pairs per site (drawn from a seed of their own).
    public func evaluate() throws -> DecoderEvaluation {
        var heldOut = SeededRandom(seed: settings.seed &+ 0x4E1D_0A7)
        var perSite = [[DecoderExample]](repeating: [], count: decoder.config.sites.count)
        while perSite.contains(where: { $0.count < settings.heldOutPerSite }) {
            for example in try maker.examples(count: 256, rng: &heldOut) where perSite[example.site].count < settings.heldOutPerSite {
                perSite[example.site].append(example)
            }
        }
        var losses: [Double] = []
        var total = 0.0, tokens = 0
        for examples in perSite {
            let count = examples.reduce(0) { $0 + $1.tokens.count + 1 }
            let loss = try decoder.loss(examples)
            losses.append(loss)
            total += loss * Double(count)
            tokens += count
        }
        return DecoderEvaluation(heldOutLoss: total / Double(max(1, tokens)), siteLosses: losses)
    }

    /// `training_log.csv`: a header and one line per step.
    public var logCSV: String {
        (["step,loss,learning_rate,gradient_norm,tokens_per_second"] + log.map {
            "\($0.step),\($0.loss),\($0.learningRate),\($0.gradientNorm),\(String(format: "%.1f", $0.tokensPerSecond))"
        }).joined(separator: "\n") + "\n"
    }
}

/// AdamW over every decoder parameter (the body's and the conditioning network's), with global-norm clipping.
struct DecoderOptimizer: Sendable {
    let settings: OptimizerSettings
    private var step = 0
    private var firstMoment: InversionDecoder.BatchGradients
    private var secondMoment: InversionDecoder.BatchGradients

    init(settings: OptimizerSettings, decoder: InversionDecoder) {
        self.settings = settings
        let zeros = InversionDecoder.BatchGradients(
            body: GPT2Weights.zeros(config: decoder.config.body), conditioning: ConditioningWeights.zeros(config: decoder.config))
        firstMoment = zeros
        secondMoment = zeros
    }

    mutating func apply(_ gradients: InversionDecoder.BatchGradients, to decoder: inout InversionDecoder) -> (gradientNorm: Float, learningRate: Float) {
        let bodyPaths = gradients.body.parameterPaths.map(\.1)
        let conditioningPaths = gradients.conditioning.parameterPaths.map(\.1)
        let squares = bodyPaths.reduce(0) { $0 + gradients.body[keyPath: $1].sumOfSquares }
            + conditioningPaths.reduce(0) { $0 + gradients.conditioning[keyPath: $1].sumOfSquares }
        let norm = Float(squares.squareRoot())
        let clip: Float = settings.gradientClip > 0 && norm > settings.gradientClip ? settings.gradientClip / norm : 1
        let rate = settings.learningRate(atStep: step)
        step += 1
        func update(_ weight: inout Tensor, _ gradient: Tensor, _ m: inout Tensor, _ v: inout Tensor) {
            var gradient = gradient
            if clip != 1 { gradient.scale(by: clip) }
            weight.adamWUpdate(
                gradient: gradient, m: &m, v: &v,
                AdamWStep(learningRate: rate, beta1: settings.beta1, beta2: settings.beta2, epsilon: settings.epsilon,
                          weightDecay: weight.rank == 2 ? settings.weightDecay : 0, step: step))
        }
        for path in bodyPaths {
            update(&decoder.body.weights[keyPath: path], gradients.body[keyPath: path], &firstMoment.body[keyPath: path], &secondMoment.body[keyPath: path])
        }
        for path in conditioningPaths {
            update(&decoder.conditioning[keyPath: path], gradients.conditioning[keyPath: path],
                   &firstMoment.conditioning[keyPath: path], &secondMoment.conditioning[keyPath: path])
        }
        return (norm, rate)
    }
}
