import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel

// How well a dictionary reconstructs its hook. Shape legend: N rows, I input width, S features,
// B sequences of T tokens, V vocabulary.

/// Reconstruction statistics accumulated over activation rows `[N, I]` and their encodings
/// `[N, S]`, in Double.
public struct ReconstructionStatistics: Sendable, Equatable {
    /// Rows added so far.
    public private(set) var rows = 0
    /// Rows in which each feature `[S]` was active (> 0).
    public private(set) var firingCounts: [Int]
    private var squaredError = 0.0
    private var activeCount = 0
    private var sums: [Double]
    private var sumsOfSquares: [Double]

    /// Empty statistics for input width `inputWidth` and `width` features.
    public init(inputWidth: Int, width: Int) {
        firingCounts = [Int](repeating: 0, count: width)
        sums = [Double](repeating: 0, count: inputWidth)
        sumsOfSquares = [Double](repeating: 0, count: inputWidth)
    }

    /// Adds rows: inputs `x` `[N, I]`, their features `[N, S]` and reconstructions `[N, I]`.
    public mutating func add(input x: Tensor, features: Tensor, reconstruction: Tensor) throws {
        let (inputs, width) = (sums.count, firingCounts.count)
        guard x.rank == 2, x.shape[1] == inputs, reconstruction.shape == x.shape else {
            throw DictionaryError.inputWidth(source: "statistics input", expected: inputs, found: x.shape)
        }
        guard features.shape == [x.shape[0], width] else {
            throw DictionaryError.featureWidth(source: "statistics features", expected: width, found: features.shape)
        }
        let count = x.shape[0]
        for row in 0..<count {
            for i in 0..<inputs {
                let value = Double(x.scalars[row * inputs + i])
                let error = Double(reconstruction.scalars[row * inputs + i]) - value
                squaredError += error * error
                sums[i] += value
                sumsOfSquares[i] += value * value
            }
            for j in 0..<width where features.scalars[row * width + j] > 0 {
                firingCounts[j] += 1
                activeCount += 1
            }
        }
        rows += count
    }

    /// Mean squared error per value.
    public var meanSquaredError: Double {
        rows == 0 ? 0 : squaredError / Double(rows * sums.count)
    }

    /// 1 − Σ‖x − x̂‖² / Σ‖x − mean‖² (the mean taken per dimension over the rows); 0 when the
    /// rows do not vary.
    public var fractionOfVarianceExplained: Double {
        guard rows > 0 else { return 0 }
        var total = 0.0
        for i in sums.indices { total += sumsOfSquares[i] - sums[i] * sums[i] / Double(rows) }
        return total > 0 ? 1 - squaredError / total : 0
    }

    /// Mean number of active features per row.
    public var meanL0: Double { rows == 0 ? 0 : Double(activeCount) / Double(rows) }

    /// Fraction of features that never fired.
    public var deadFraction: Double {
        firingCounts.isEmpty ? 0 : Double(firingCounts.filter { $0 == 0 }.count) / Double(firingCounts.count)
    }
}

/// Next-token cross-entropy of a model as is, with a hook replaced by a dictionary's
/// reconstruction, and with the hook zeroed.
public struct SplicedLosses: Sendable, Equatable {
    public var clean: Double
    public var reconstructed: Double
    public var zeroAblated: Double
    /// Next-token predictions counted.
    public var predictions: Int

    /// (zero-ablated − reconstructed) / (zero-ablated − clean); 0 when zeroing the hook does not
    /// change the loss.
    public var lossRecovered: Double {
        let denominator = zeroAblated - clean
        return denominator == 0 ? 0 : (zeroAblated - reconstructed) / denominator
    }
}

/// Measures a dictionary's reconstruction quality (`DictionaryQuality`).
public enum DictionaryEvaluation {
    /// Reconstruction statistics of `dictionary` over `rows` (`[N, I]`, or any shape `rows(of:)`
    /// accepts), encoded `blockRows` at a time.
    public static func statistics(of dictionary: SparseDictionary, rows: Tensor, blockRows: Int = 4096) throws -> ReconstructionStatistics {
        let matrix = try dictionary.rows(of: rows, source: "evaluation rows")
        let inputs = dictionary.inputWidth
        var statistics = ReconstructionStatistics(inputWidth: inputs, width: dictionary.width)
        let count = matrix.shape[0]
        var start = 0
        while start < count {
            let end = min(count, start + max(1, blockRows))
            let block = try Tensor(shape: [end - start, inputs], scalars: Array(matrix.scalars[(start * inputs)..<(end * inputs)]))
            let features = try dictionary.encode(block)
            try statistics.add(input: block, features: features, reconstruction: try dictionary.decode(features))
            start = end
        }
        return statistics
    }

    /// Runs every batch of `batches` (each `B` token sequences of one length `T`) through `model`
    /// three times — clean, with the dictionary's hook replaced by its reconstruction, and with the
    /// hook zeroed — and returns the three next-token losses (averaged over all predictions; logits
    /// made and reduced in row blocks, no gradient) and the reconstruction statistics of the hook's
    /// clean activations.
    public static func splicedLosses(
        of dictionary: SparseDictionary, model: GPT2Model, batches: [[[Int]]]
    ) throws -> (losses: SplicedLosses, statistics: ReconstructionStatistics) {
        try checkHook(of: dictionary, model: model)
        return try splicedLosses(
            of: dictionary, model: model, passes: EvaluationPass.run(model: model, batches: batches, hooks: [dictionary.hookName]))
    }

    /// The losses and statistics of `splicedLosses(of:model:batches:)` from clean `passes` already run
    /// (each keeping the dictionary's hook): over their counted positions only, the spliced and zeroed
    /// passes starting from the residual entering the hook's block.
    public static func splicedLosses(
        of dictionary: SparseDictionary, model: GPT2Model, passes: [EvaluationPass]
    ) throws -> (losses: SplicedLosses, statistics: ReconstructionStatistics) {
        try checkHook(of: dictionary, model: model)
        let hook = dictionary.hookName
        var statistics = ReconstructionStatistics(inputWidth: dictionary.inputWidth, width: dictionary.width)
        var totals = [0.0, 0.0, 0.0]  // clean, reconstructed, zero-ablated: summed losses
        var predictions = 0
        for pass in passes {
            guard let activation = pass.activations[hook] else {
                throw DictionaryError.hook(name: hook, reason: "the clean pass did not keep this hook")
            }
            let all = try dictionary.rows(of: activation, source: "hook '\(hook)' activation \(activation.shape)")
            // Rows of the counted positions (a position has several rows when the dictionary reads one head).
            let length = pass.tokens[0].count
            let perPosition = all.shape[0] / (pass.tokens.count * length)
            let counted = pass.counted.enumerated().flatMap { item, count in
                Array((item * length * perPosition)..<((item * length + count) * perPosition))
            }
            let rows = all.gatherRows(counted)
            let features = try dictionary.encode(rows)
            let reconstruction = try dictionary.decode(features)
            try statistics.add(input: rows, features: features, reconstruction: reconstruction)
            // Padding rows keep their clean values: causal attention never carries them to a counted row.
            var spliced = all
            let width = all.shape[1]
            for (slot, row) in counted.enumerated() {
                spliced.scalars.replaceSubrange((row * width)..<((row + 1) * width), with: reconstruction.scalars[(slot * width)..<((slot + 1) * width)])
            }
            let splicedLoss = try pass.loss(model: model, with: Intervention(hook: hook, action: .replace(try spliced.reshaped(activation.shape))))
            let zeroedLoss = try pass.zeroedLoss(model: model, hook: hook)
            for (slot, loss) in [pass.clean, splicedLoss, zeroedLoss].enumerated() { totals[slot] += loss.sum }
            predictions += pass.clean.predictions
        }
        let denominator = Double(max(1, predictions))
        let losses = SplicedLosses(
            clean: totals[0] / denominator, reconstructed: totals[1] / denominator,
            zeroAblated: totals[2] / denominator, predictions: predictions)
        return (losses, statistics)
    }

    private static func checkHook(of dictionary: SparseDictionary, model: GPT2Model) throws {
        guard model.hookNames.contains(dictionary.hookName) else {
            throw DictionaryError.hook(name: dictionary.hookName, reason: "the model has no such hook point")
        }
    }

    /// The `DictionaryQuality` of `dictionary` on `batches` of tokens: reconstruction statistics
    /// over the hook's activations on those tokens, and the spliced losses.
    public static func evaluate(dictionary: SparseDictionary, model: GPT2Model, batches: [[[Int]]]) throws -> DictionaryQuality {
        quality(try splicedLosses(of: dictionary, model: model, batches: batches))
    }

    /// The `DictionaryQuality` of `dictionary` from clean `passes` already run (see `splicedLosses(of:model:passes:)`).
    public static func evaluate(dictionary: SparseDictionary, model: GPT2Model, passes: [EvaluationPass]) throws -> DictionaryQuality {
        quality(try splicedLosses(of: dictionary, model: model, passes: passes))
    }

    private static func quality(_ measured: (losses: SplicedLosses, statistics: ReconstructionStatistics)) -> DictionaryQuality {
        let (losses, statistics) = measured
        return DictionaryQuality(
            meanSquaredError: statistics.meanSquaredError,
            fractionOfVarianceExplained: statistics.fractionOfVarianceExplained,
            meanL0: statistics.meanL0, deadFraction: statistics.deadFraction,
            cleanLoss: losses.clean, reconstructedLoss: losses.reconstructed,
            zeroAblatedLoss: losses.zeroAblated, lossRecovered: losses.lossRecovered, tokens: statistics.rows)
    }
}
