import Foundation
import LoupeCore

// Training of TopK sparse autoencoders (Gao et al. 2024, "Scaling and evaluating sparse
// autoencoders"). Shape legend: B rows per batch, I input width, S features, k active features.

/// The parameters of a TopK sparse autoencoder, in SAELens's names and layout.
public struct TopKParameters: Sendable, Equatable {
    /// `W_enc` `[I, S]`.
    public var encoderWeight: Tensor
    /// `b_enc` `[S]`.
    public var encoderBias: Tensor
    /// `W_dec` `[S, I]`.
    public var decoderWeight: Tensor
    /// `b_dec` `[I]`.
    public var decoderBias: Tensor

    /// All-zero parameters for input width `inputs` and `features` features.
    public static func zeros(inputs: Int, features: Int) -> TopKParameters {
        TopKParameters(
            encoderWeight: Tensor(shape: [inputs, features]), encoderBias: Tensor(shape: [features]),
            decoderWeight: Tensor(shape: [features, inputs]), decoderBias: Tensor(shape: [inputs]))
    }

    /// Input width I.
    public var inputWidth: Int { encoderWeight.shape[0] }
    /// Number of features S.
    public var width: Int { encoderWeight.shape[1] }
}

/// The loss of a TopK autoencoder on one batch and its gradient with respect to every parameter.
public struct TopKLossAndGradients: Sendable {
    /// Reconstruction loss: mean over rows of ‖x̂ − x‖² (SAELens's `mse_loss`).
    public var reconstructionLoss: Double
    /// AuxK loss (0 when no latent is dead): coefficient · min(dead / k_aux, 1) · mean over rows of
    /// ‖ê − (x − x̂)‖², ê the reconstruction from the top k_aux dead latents without `b_dec`.
    public var auxiliaryLoss: Double
    /// Gradient of `reconstructionLoss + auxiliaryLoss`.
    public var gradients: TopKParameters
    /// Whether each feature `[S]` was active (> 0) in some row of the batch.
    public var fired: [Bool]
    /// Active features summed over rows (mean L0 = this / B).
    public var activeCount: Int

    /// `reconstructionLoss + auxiliaryLoss`.
    public var loss: Double { reconstructionLoss + auxiliaryLoss }
}

/// Settings of TopK dictionary training.
public struct TopKTrainingSettings: Sendable, Equatable {
    /// Number of features S.
    public var width: Int = 512
    /// Active features per row.
    public var k: Int = 8
    /// Rows per optimiser step.
    public var batchSize: Int = 1024
    /// Passes over the training rows.
    public var epochs: Int = 1
    /// Adam learning rate (constant, then linear decay to 0 over the last `decayFraction` of steps).
    public var learningRate: Float = 5e-3, decayFraction: Float = 0.2
    /// Decay rates of Adam's first and second moments, and ε added to the second moment's root.
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    /// Train on inputs scaled so that their mean norm is √I (SAELens `expected_average_only_in`);
    /// the factor is kept in the dictionary (`normalization`) and folded into the weights on save.
    public var normalizeInputs: Bool = true
    /// A latent counts as dead once it has not fired for this many rows.
    public var deadAfterTokens: Int = 100_000
    /// Dead latents used by the AuxK loss (`nil`: I / 2, as SAELens).
    public var auxK: Int?
    /// Coefficient of the AuxK loss.
    public var auxCoefficient: Float = 1.0 / 32
    /// Rows used to initialise `b_dec` to their geometric median.
    public var medianSampleRows: Int = 4096

    public init() {}

    /// Throws `invalidArgument` naming the first setting that cannot be used with input width `inputs`.
    public func validate(inputs: Int) throws {
        func fail(_ name: String, _ reason: String) -> DictionaryError { .invalidArgument(name: name, reason: reason) }
        guard inputs > 0 else { throw fail("inputWidth", "must be positive, got \(inputs)") }
        guard width > 0 else { throw fail("width", "must be positive, got \(width)") }
        guard k >= 1 && k <= width else { throw fail("k", "must be between 1 and width = \(width), got \(k)") }
        guard batchSize > 0 else { throw fail("batchSize", "must be positive, got \(batchSize)") }
        guard epochs > 0 else { throw fail("epochs", "must be positive, got \(epochs)") }
        guard learningRate > 0 && learningRate.isFinite else { throw fail("learningRate", "must be positive, got \(learningRate)") }
        guard decayFraction >= 0 && decayFraction <= 1 else { throw fail("decayFraction", "must be in [0, 1], got \(decayFraction)") }
        guard deadAfterTokens > 0 else { throw fail("deadAfterTokens", "must be positive, got \(deadAfterTokens)") }
        if let auxK, auxK < 1 { throw fail("auxK", "must be positive, got \(auxK)") }
        guard auxCoefficient >= 0 else { throw fail("auxCoefficient", "must not be negative, got \(auxCoefficient)") }
        guard medianSampleRows > 0 else { throw fail("medianSampleRows", "must be positive, got \(medianSampleRows)") }
    }
}

/// What one optimiser step saw.
public struct TopKStepReport: Sendable, Equatable {
    /// 0-based step number.
    public var step: Int
    /// Mean squared error per value, on the (scaled) training inputs, before the update.
    public var meanSquaredError: Double
    /// AuxK loss of the step.
    public var auxiliaryLoss: Double
    /// Mean active features per row.
    public var meanL0: Double
    /// Fraction of latents that had not fired for `deadAfterTokens` rows, after the step.
    public var deadFraction: Double
    /// Learning rate used.
    public var learningRate: Float
}

/// The outcome of `TopKTrainer.train`.
public struct TopKTrainingReport: Sendable {
    /// Every step, in order.
    public var steps: [TopKStepReport]
    /// Rows seen (steps × batch size).
    public var tokens: Int
    /// Wall-clock time of the training loop.
    public var seconds: Double
    /// The input scaling factor (1 without normalisation).
    public var scalingFactor: Float
    /// Fraction of dead latents after the last step.
    public var deadFraction: Double { steps.last?.deadFraction ?? 0 }
}

/// Trains a TopK sparse autoencoder whose weights SAELens can load (`architecture: topk`,
/// `apply_b_dec_to_input: true`).
///
/// Per batch `x` `[B, I]` (scaled by `s` when normalising): pre-activations
/// `h = (x − b_dec)·W_enc + b_enc` `[B, S]`; the k largest of each row, ReLU'd, are the features `f`
/// `[B, S]`; `x̂ = f·W_dec + b_dec`. Loss: mean over rows of ‖x̂ − x‖², plus the AuxK loss over the
/// latents that have not fired for `deadAfterTokens` rows. Adam (no weight decay); decoder rows stay
/// unit-norm (the gradient component along each row is removed before the step, and rows are
/// renormalised after it). Initialisation: `W_dec` rows random unit vectors, `W_enc = W_decᵀ`,
/// `b_enc = 0`, `b_dec` the geometric median of a sample of rows. Every random draw comes from the
/// `SeededRandom` passed in, so a seed gives the same dictionary.
public struct TopKTrainer: Sendable {
    public let settings: TopKTrainingSettings
    /// Hook the trained dictionary reads.
    public let hookName: String
    /// Current parameters (in the scaled input space when normalising).
    public internal(set) var parameters: TopKParameters
    /// The factor inputs are multiplied by (1 without normalisation).
    public let scalingFactor: Float
    /// Optimiser steps taken.
    public private(set) var stepCount = 0
    /// Rows since each latent `[S]` last fired.
    public private(set) var tokensSinceFired: [Int]
    private var firstMoment: TopKParameters
    private var secondMoment: TopKParameters

    /// A trainer initialised from `rows` `[N, I]` (for the scaling factor and `b_dec`).
    public init(hookName: String, rows: Tensor, settings: TopKTrainingSettings = TopKTrainingSettings(), rng: inout SeededRandom) throws {
        guard rows.rank == 2, rows.shape[0] > 0 else {
            throw DictionaryError.invalidArgument(name: "rows", reason: "expected a non-empty [N, d_in] tensor, got shape \(rows.shape)")
        }
        let inputs = rows.shape[1]
        try settings.validate(inputs: inputs)
        guard rows.scalars.allSatisfy({ $0.isFinite }) else {
            throw DictionaryError.invalidArgument(name: "rows", reason: "contain NaN or infinite values")
        }
        self.settings = settings
        self.hookName = hookName
        let features = settings.width
        scalingFactor = settings.normalizeInputs ? Self.normScalingFactor(rows) : 1

        var decoder = Tensor(shape: [features, inputs])
        for i in 0..<decoder.count { decoder.scalars[i] = rng.nextNormal() }
        Self.normaliseRows(&decoder)
        var encoder = Tensor(shape: [inputs, features])
        for j in 0..<features {
            for i in 0..<inputs { encoder.scalars[i * features + j] = decoder.scalars[j * inputs + i] }
        }
        let sampleCount = min(settings.medianSampleRows, rows.shape[0])
        var sample = [Float]()
        sample.reserveCapacity(sampleCount * inputs)
        for row in Self.permutation(rows.shape[0], rng: &rng).prefix(sampleCount) {
            sample.append(contentsOf: rows.scalars[(row * inputs)..<((row + 1) * inputs)])
        }
        var median = Self.geometricMedian(sample, columns: inputs)
        for i in median.indices { median[i] *= scalingFactor }
        parameters = TopKParameters(
            encoderWeight: encoder, encoderBias: Tensor(shape: [features]),
            decoderWeight: decoder, decoderBias: try Tensor(shape: [inputs], scalars: median))
        firstMoment = .zeros(inputs: inputs, features: features)
        secondMoment = .zeros(inputs: inputs, features: features)
        tokensSinceFired = [Int](repeating: 0, count: features)
    }

    /// Latents that have not fired for `deadAfterTokens` rows.
    public var deadMask: [Bool] { tokensSinceFired.map { $0 >= settings.deadAfterTokens } }

    /// Fraction of latents that are dead.
    public var deadFraction: Double {
        Double(deadMask.filter { $0 }.count) / Double(max(1, tokensSinceFired.count))
    }

    /// The trained dictionary (its input normalisation carries the scaling factor).
    public func dictionary() throws -> SparseDictionary {
        try SparseDictionary(
            architecture: .topk, hookName: hookName,
            encoderWeight: parameters.encoderWeight, encoderBias: parameters.encoderBias,
            decoderWeight: parameters.decoderWeight, decoderBias: parameters.decoderBias,
            k: settings.k, applyDecoderBiasToInput: true,
            normalization: settings.normalizeInputs ? .expectedAverageOnlyIn(scalingFactor: scalingFactor) : .none)
    }

    /// Trains for `settings.epochs` passes over `rows` `[N, I]`, in batches of
    /// `min(batchSize, N)` rows drawn without replacement (the remainder of each shuffled pass is
    /// left out). `progress` sees every step.
    @discardableResult
    public mutating func train(
        rows: Tensor, rng: inout SeededRandom, progress: ((TopKStepReport) -> Void)? = nil
    ) throws -> TopKTrainingReport {
        let inputs = parameters.inputWidth
        guard rows.rank == 2, rows.shape[1] == inputs, rows.shape[0] > 0 else {
            throw DictionaryError.inputWidth(source: "training rows", expected: inputs, found: rows.shape)
        }
        let count = rows.shape[0]
        let batch = min(settings.batchSize, count)
        let perEpoch = count / batch
        let total = perEpoch * settings.epochs
        let start = DispatchTime.now().uptimeNanoseconds
        var reports: [TopKStepReport] = []
        reports.reserveCapacity(total)
        var values = [Float](repeating: 0, count: batch * inputs)
        for _ in 0..<settings.epochs {
            let order = Self.permutation(count, rng: &rng)
            for index in 0..<perEpoch {
                for (slot, row) in order[(index * batch)..<((index + 1) * batch)].enumerated() {
                    for i in 0..<inputs { values[slot * inputs + i] = rows.scalars[row * inputs + i] * scalingFactor }
                }
                let rate = learningRate(atStep: stepCount, totalSteps: total)
                let report = try step(batch: try Tensor(shape: [batch, inputs], scalars: values), learningRate: rate)
                reports.append(report)
                progress?(report)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return TopKTrainingReport(steps: reports, tokens: total * batch, seconds: seconds, scalingFactor: scalingFactor)
    }

    /// Learning rate of step `step` of `totalSteps`: constant, then a linear decay to 0 over the
    /// last `decayFraction` of the steps.
    public func learningRate(atStep step: Int, totalSteps: Int) -> Float {
        let decaySteps = Float(totalSteps) * settings.decayFraction
        let remaining = Float(totalSteps - step)
        guard decaySteps > 0, remaining < decaySteps else { return settings.learningRate }
        return settings.learningRate * max(0, remaining) / decaySteps
    }

    /// One optimiser step on `batch` `[B, I]` (already scaled).
    public mutating func step(batch: Tensor, learningRate: Float) throws -> TopKStepReport {
        let result = try Self.lossAndGradients(
            parameters: parameters, batch: batch, k: settings.k, deadMask: deadMask,
            auxK: settings.auxK ?? max(1, parameters.inputWidth / 2), auxCoefficient: settings.auxCoefficient)
        var gradients = result.gradients
        Self.removeParallelComponent(&gradients.decoderWeight, rows: parameters.decoderWeight)
        stepCount += 1
        let adam = AdamWStep(
            learningRate: learningRate, beta1: settings.beta1, beta2: settings.beta2,
            epsilon: settings.epsilon, weightDecay: 0, step: stepCount)
        parameters.encoderWeight.adamWUpdate(gradient: gradients.encoderWeight, m: &firstMoment.encoderWeight, v: &secondMoment.encoderWeight, adam)
        parameters.encoderBias.adamWUpdate(gradient: gradients.encoderBias, m: &firstMoment.encoderBias, v: &secondMoment.encoderBias, adam)
        parameters.decoderWeight.adamWUpdate(gradient: gradients.decoderWeight, m: &firstMoment.decoderWeight, v: &secondMoment.decoderWeight, adam)
        parameters.decoderBias.adamWUpdate(gradient: gradients.decoderBias, m: &firstMoment.decoderBias, v: &secondMoment.decoderBias, adam)
        Self.normaliseRows(&parameters.decoderWeight)
        let rows = batch.shape[0]
        for j in tokensSinceFired.indices {
            tokensSinceFired[j] = result.fired[j] ? 0 : tokensSinceFired[j] + rows
        }
        return TopKStepReport(
            step: stepCount - 1,
            meanSquaredError: result.reconstructionLoss / Double(parameters.inputWidth),
            auxiliaryLoss: result.auxiliaryLoss,
            meanL0: Double(result.activeCount) / Double(rows),
            deadFraction: deadFraction, learningRate: learningRate)
    }

    /// Loss and gradients of a TopK autoencoder on `batch` `[B, I]`, by hand.
    ///
    /// `deadMask` `[S]` marks the latents the AuxK loss may use (none when `nil` or all false); the
    /// top `min(auxK, dead)` of their pre-activations per row (not ReLU'd, as SAELens) reconstruct
    /// the residual `x − x̂`, which is held constant.
    public static func lossAndGradients(
        parameters p: TopKParameters, batch x: Tensor, k: Int, deadMask: [Bool]? = nil, auxK: Int, auxCoefficient: Float
    ) throws -> TopKLossAndGradients {
        try lossAndGradients(parameters: p, batch: x, k: k, deadMask: deadMask, auxK: auxK, auxCoefficient: auxCoefficient, residual: nil)
    }

    /// `lossAndGradients` with the AuxK target `residual` `[B, I]` given instead of taken from this
    /// batch's reconstruction (for checking the gradient, which treats the residual as constant).
    static func lossAndGradients(
        parameters p: TopKParameters, batch x: Tensor, k: Int, deadMask: [Bool]?, auxK: Int, auxCoefficient: Float,
        residual fixedResidual: Tensor?
    ) throws -> TopKLossAndGradients {
        let (inputs, features) = (p.inputWidth, p.width)
        guard x.rank == 2, x.shape[1] == inputs else {
            throw DictionaryError.inputWidth(source: "training batch", expected: inputs, found: x.shape)
        }
        guard k >= 1 && k <= features else {
            throw DictionaryError.invalidArgument(name: "k", reason: "must be between 1 and \(features), got \(k)")
        }
        let rows = x.shape[0]
        let centred = subtractingRows(x, p.decoderBias)
        let pre = try centred.matmul(p.encoderWeight, bias: p.encoderBias)

        var activations = Tensor(shape: [rows, features])
        var fired = [Bool](repeating: false, count: features)
        var activeCount = 0
        var indices = [Int](repeating: 0, count: k)
        var values = [Float](repeating: 0, count: k)
        for row in 0..<rows {
            TopKSelection.select(pre.scalars, offset: row * features, count: features, k: k, indices: &indices, values: &values)
            for (index, value) in zip(indices, values) where value > 0 {
                activations.scalars[row * features + index] = value
                fired[index] = true
                activeCount += 1
            }
        }
        let reconstruction = try activations.matmul(p.decoderWeight, bias: p.decoderBias)

        let scale = 2 / Float(rows)
        var outputGradient = Tensor(shape: [rows, inputs])
        var reconstructionLoss = 0.0
        for i in 0..<(rows * inputs) {
            let error = reconstruction.scalars[i] - x.scalars[i]
            reconstructionLoss += Double(error) * Double(error)
            outputGradient.scalars[i] = scale * error
        }
        reconstructionLoss /= Double(rows)

        var gradients = TopKParameters.zeros(inputs: inputs, features: features)
        var decoderBiasGradient: Tensor? = Tensor(shape: [inputs])
        let featureGradient = activations.matmulBackward(
            weight: p.decoderWeight, outputGradient: outputGradient,
            weightGradient: &gradients.decoderWeight, biasGradient: &decoderBiasGradient) ?? Tensor(shape: [rows, features])
        var preGradient = Tensor(shape: [rows, features])
        for i in 0..<(rows * features) where activations.scalars[i] > 0 {
            preGradient.scalars[i] = featureGradient.scalars[i]
        }

        var auxiliaryLoss = 0.0
        let dead = deadMask.map { mask in (0..<features).filter { $0 < mask.count && mask[$0] } } ?? []
        if !dead.isEmpty && auxCoefficient > 0 {
            let chosen = min(auxK, dead.count)
            let weight = auxCoefficient * min(Float(dead.count) / Float(auxK), 1)
            var auxActivations = Tensor(shape: [rows, features])
            var deadPre = [Float](repeating: 0, count: dead.count)
            var auxIndices = [Int](repeating: 0, count: chosen)
            var auxValues = [Float](repeating: 0, count: chosen)
            var auxChosen: [Int] = []
            auxChosen.reserveCapacity(rows * chosen)
            for row in 0..<rows {
                for (slot, latent) in dead.enumerated() { deadPre[slot] = pre.scalars[row * features + latent] }
                TopKSelection.select(deadPre, offset: 0, count: dead.count, k: chosen, indices: &auxIndices, values: &auxValues)
                for slot in auxIndices {
                    auxActivations.scalars[row * features + dead[slot]] = deadPre[slot]
                    auxChosen.append(row * features + dead[slot])
                }
            }
            let auxReconstruction = try auxActivations.matmul(p.decoderWeight)
            var auxGradient = Tensor(shape: [rows, inputs])
            for i in 0..<(rows * inputs) {
                let residual = fixedResidual?.scalars[i] ?? (x.scalars[i] - reconstruction.scalars[i])
                let error = auxReconstruction.scalars[i] - residual
                auxiliaryLoss += Double(error) * Double(error)
                auxGradient.scalars[i] = weight * scale * error
            }
            auxiliaryLoss *= Double(weight) / Double(rows)
            var noBias: Tensor? = nil
            let auxFeatureGradient = auxActivations.matmulBackward(
                weight: p.decoderWeight, outputGradient: auxGradient,
                weightGradient: &gradients.decoderWeight, biasGradient: &noBias) ?? Tensor(shape: [rows, features])
            for i in auxChosen { preGradient.scalars[i] += auxFeatureGradient.scalars[i] }
        }

        var encoderBiasGradient: Tensor? = Tensor(shape: [features])
        let centredGradient = centred.matmulBackward(
            weight: p.encoderWeight, outputGradient: preGradient,
            weightGradient: &gradients.encoderWeight, biasGradient: &encoderBiasGradient) ?? Tensor(shape: [rows, inputs])
        gradients.encoderBias = encoderBiasGradient ?? gradients.encoderBias
        var biasGradient = decoderBiasGradient ?? Tensor(shape: [inputs])
        for row in 0..<rows {
            for i in 0..<inputs { biasGradient.scalars[i] -= centredGradient.scalars[row * inputs + i] }
        }
        gradients.decoderBias = biasGradient
        return TopKLossAndGradients(
            reconstructionLoss: reconstructionLoss, auxiliaryLoss: auxiliaryLoss, gradients: gradients,
            fired: fired, activeCount: activeCount)
    }

    // MARK: Helpers

    /// √I / (mean row norm) of `rows` `[N, I]` (1 when every row is zero).
    static func normScalingFactor(_ rows: Tensor) -> Float {
        let inputs = rows.shape[1]
        let count = rows.shape[0]
        var total = 0.0
        for row in 0..<count {
            var sum = 0.0
            for i in 0..<inputs {
                let value = Double(rows.scalars[row * inputs + i])
                sum += value * value
            }
            total += sum.squareRoot()
        }
        let mean = total / Double(count)
        return mean > 0 ? Float(Double(inputs).squareRoot() / mean) : 1
    }

    /// Scales every row of `matrix` `[R, C]` to unit norm (zero rows stay zero).
    static func normaliseRows(_ matrix: inout Tensor) {
        let columns = matrix.shape[1]
        for row in 0..<matrix.shape[0] {
            var sum: Float = 0
            for i in 0..<columns { sum += matrix.scalars[row * columns + i] * matrix.scalars[row * columns + i] }
            guard sum > 0 else { continue }
            let inverse = 1 / sum.squareRoot()
            for i in 0..<columns { matrix.scalars[row * columns + i] *= inverse }
        }
    }

    /// Removes from each row of `gradient` `[S, I]` its component along the matching (unit) row of
    /// `rows`, so a step keeps the rows' norms to first order.
    static func removeParallelComponent(_ gradient: inout Tensor, rows: Tensor) {
        let columns = rows.shape[1]
        for row in 0..<rows.shape[0] {
            var dot: Float = 0
            for i in 0..<columns { dot += gradient.scalars[row * columns + i] * rows.scalars[row * columns + i] }
            for i in 0..<columns { gradient.scalars[row * columns + i] -= dot * rows.scalars[row * columns + i] }
        }
    }

    /// The geometric median of the rows of `values` (`[M, columns]`, flattened) by Weiszfeld's
    /// iteration from the mean, in Double.
    static func geometricMedian(_ values: [Float], columns: Int, iterations: Int = 100) -> [Float] {
        let count = values.count / columns
        var median = [Double](repeating: 0, count: columns)
        for row in 0..<count {
            for i in 0..<columns { median[i] += Double(values[row * columns + i]) }
        }
        for i in 0..<columns { median[i] /= Double(max(1, count)) }
        var next = [Double](repeating: 0, count: columns)
        for _ in 0..<iterations {
            for i in 0..<columns { next[i] = 0 }
            var totalWeight = 0.0
            for row in 0..<count {
                var distance = 0.0
                for i in 0..<columns {
                    let d = Double(values[row * columns + i]) - median[i]
                    distance += d * d
                }
                let weight = 1 / max(distance.squareRoot(), 1e-8)
                totalWeight += weight
                for i in 0..<columns { next[i] += weight * Double(values[row * columns + i]) }
            }
            var shift = 0.0
            var size = 0.0
            for i in 0..<columns {
                let value = next[i] / totalWeight
                shift += (value - median[i]) * (value - median[i])
                size += value * value
                median[i] = value
            }
            if shift <= 1e-12 * max(size, 1e-12) { break }
        }
        return median.map { Float($0) }
    }

    /// A uniformly random permutation of `0..<count` (Fisher–Yates).
    static func permutation(_ count: Int, rng: inout SeededRandom) -> [Int] {
        var order = Array(0..<count)
        guard count > 1 else { return order }
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, rng.nextInt(below: i + 1))
        }
        return order
    }
}
