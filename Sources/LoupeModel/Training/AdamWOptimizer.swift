import Foundation
import LoupeCore

/// Optimiser settings: AdamW with linear warm-up, cosine decay and global-norm clipping.
public struct OptimizerSettings: Sendable, Equatable {
    /// Peak learning rate, reached at the end of warm-up.
    public var learningRate: Float = 2e-3
    /// Decay rates of the first and second moments, and ε added to the second moment's root.
    public var beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8
    /// Decoupled weight decay, applied to matrices only (rank-2 parameters).
    public var weightDecay: Float = 0.1
    /// Steps of linear warm-up from 0 to `learningRate`.
    public var warmupSteps: Int = 100
    /// Total steps; the rate follows a cosine from `learningRate` to `learningRate · finalFraction`.
    public var totalSteps: Int = 1000
    /// Fraction of the peak rate at the last step.
    public var finalFraction: Float = 0.1
    /// Largest global gradient norm; larger gradients are scaled down to it (0 disables clipping).
    public var gradientClip: Float = 1.0

    public init() {}

    /// Learning rate of step `step` (0-based).
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return learningRate * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        let cosine = 0.5 * (1 + cos(Float.pi * progress))
        return learningRate * (finalFraction + (1 - finalFraction) * cosine)
    }
}

/// AdamW state: both moments of every parameter and the number of steps taken.
public struct AdamWOptimizer: Sendable {
    public let settings: OptimizerSettings
    /// Steps taken so far.
    public private(set) var step: Int = 0
    var firstMoment: GPT2Weights
    var secondMoment: GPT2Weights

    public init(settings: OptimizerSettings, config: GPT2Config) {
        self.settings = settings
        firstMoment = GPT2Weights.zeros(config: config)
        secondMoment = GPT2Weights.zeros(config: config)
    }

    /// What one update did.
    public struct Update: Sendable {
        /// Global gradient norm before clipping.
        public var gradientNorm: Float
        /// Learning rate used.
        public var learningRate: Float
    }

    /// Clips `gradients` to the global norm limit and applies one AdamW step to `weights`; both
    /// must have the parameter shapes of the configuration the optimiser was made for.
    public mutating func apply(_ gradients: GPT2Weights, to weights: inout GPT2Weights) -> Update {
        let paths = firstMoment.parameterPaths
        let shapes = paths.map { firstMoment[keyPath: $0.1].shape }
        precondition(
            weights.named.map(\.1.shape) == shapes && gradients.named.map(\.1.shape) == shapes,
            "AdamWOptimizer.apply: weights or gradients do not have the parameter shapes of the optimiser's configuration")
        let norm = Float(paths.reduce(0) { $0 + gradients[keyPath: $1.1].sumOfSquares }.squareRoot())
        let clipScale: Float = settings.gradientClip > 0 && norm > settings.gradientClip ? settings.gradientClip / norm : 1
        let rate = settings.learningRate(atStep: step)
        step += 1
        for (_, path) in paths {
            var gradient = gradients[keyPath: path]
            if clipScale != 1 { gradient.scale(by: clipScale) }
            let decay = weights[keyPath: path].rank == 2 ? settings.weightDecay : 0
            weights[keyPath: path].adamWUpdate(
                gradient: gradient, m: &firstMoment[keyPath: path], v: &secondMoment[keyPath: path],
                AdamWStep(learningRate: rate, beta1: settings.beta1, beta2: settings.beta2,
                          epsilon: settings.epsilon, weightDecay: decay, step: step))
        }
        return Update(gradientNorm: norm, learningRate: rate)
    }

    /// The moments as named tensors (`m/<name>`, `v/<name>`), for checkpoints.
    public var stateTensors: [String: SafetensorsValue] {
        var tensors: [String: SafetensorsValue] = [:]
        for (name, path) in firstMoment.parameterPaths {
            tensors["m/" + name] = .float32(firstMoment[keyPath: path])
            tensors["v/" + name] = .float32(secondMoment[keyPath: path])
        }
        return tensors
    }

    /// Restores moments and step from a checkpoint file written from `stateTensors`.
    public mutating func restore(from file: SafetensorsFile, step: Int) throws {
        for (name, path) in firstMoment.parameterPaths {
            firstMoment[keyPath: path] = try file.tensor("m/" + name, shape: firstMoment[keyPath: path].shape)
            secondMoment[keyPath: path] = try file.tensor("v/" + name, shape: secondMoment[keyPath: path].shape)
        }
        self.step = step
    }
}
