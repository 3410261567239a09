import LoupeCore
import LoupeModel
import LoupeToyWorld

/// The effect of each subspace on a task: one subspace at a time, the site's activation on the clean
/// prompt gets that subspace's component from the corrupted prompt, at every position,
/// `h' = h_clean + (h_corrupted − h_clean) R_s R_sᵀ`, everything downstream recomputed.
///
/// The effect of subspace `s` is the share of the clean–corrupted metric gap it closes,
/// `(M(clean) − M(patched s)) / (M(clean) − M(corrupted))` (metrics are means over the pairs; the metric
/// of a pair is the logit difference of its answers, as in the circuit reports). Patching the whole
/// space (every column) has effect 1.
public struct SubspacePatching {
    /// The model patched.
    public let model: GPT2Model
    /// The hook point: any hook with one row per token (`[B, T, …]`, rows of `d` values).
    public let site: String

    private var batches: [CircuitBatch] = []
    /// Per batch: the clean and the corrupted activation at the site, `[B, T, …]`.
    private var clean: [Tensor] = []
    private var corrupted: [Tensor] = []
    /// Mean metric on the clean and on the corrupted prompts.
    public private(set) var cleanMetric = 0.0, corruptedMetric = 0.0
    private let pairCount: Int
    private static let final = "ln_final.hook_normalized"

    /// Runs the clean and corrupted prompts of `pairs` once, caching the site.
    public init(model: GPT2Model, site: String, pairs: [TaskExample]) throws {
        guard !pairs.isEmpty else { throw SubspaceError.invalidInput(reason: "the task has no prompt pair") }
        guard HookPoint(site) != nil else { throw SubspaceError.invalidInput(reason: "'\(site)' is not a hook point of the model") }
        self.model = model
        self.site = site
        pairCount = pairs.count
        batches = try CircuitBatching.batches(pairs, model: model) { _ in 64 }
        for batch in batches {
            let cleanRun = try model.forward(batch.clean, ForwardRequest(cache: [site, Self.final], computeLogits: false))
            let corruptedRun = try model.forward(batch.corrupted, ForwardRequest(cache: [site, Self.final], computeLogits: false))
            guard let cleanSite = cleanRun.cache[site], let corruptedSite = corruptedRun.cache[site] else {
                throw SubspaceError.invalidInput(reason: "the model does not record '\(site)'")
            }
            cleanMetric += batch.metrics(finalNormalized: cleanRun.cache[Self.final]!).reduce(0, +)
            corruptedMetric += batch.metrics(finalNormalized: corruptedRun.cache[Self.final]!).reduce(0, +)
            clean.append(cleanSite)
            corrupted.append(corruptedSite)
        }
        cleanMetric /= Double(pairCount)
        corruptedMetric /= Double(pairCount)
    }

    /// The site's row width `d`.
    public var width: Int {
        let tensor = clean[0]
        return tensor.count / (tensor.shape[0] * tensor.shape[1])
    }

    /// The effect of patching each block of `partition` under `rotation` `[d, d]`, in block order.
    public func effects(rotation: Tensor, partition: SubspacePartition) throws -> [Double] {
        let d = width
        guard rotation.shape == [d, d], partition.width == d else {
            throw SubspaceError.invalidInput(reason: "the rotation is \(rotation.shape) and the partition covers \(partition.width) columns; the site '\(site)' has \(d)")
        }
        let gap = cleanMetric - corruptedMetric
        return try partition.blocks.map { block in
            var basis = Tensor(shape: [d, block.count])
            for row in 0..<d { for (c, column) in block.enumerated() { basis.scalars[row * block.count + c] = rotation.scalars[row * d + column] } }
            var total = 0.0
            for (index, batch) in batches.enumerated() {
                let shape = clean[index].shape
                let rows = shape[0] * shape[1]
                var difference = try Tensor(shape: [rows, d], scalars: corrupted[index].scalars)
                for i in 0..<difference.count { difference.scalars[i] -= clean[index].scalars[i] }
                let component = try difference.matmul(basis).matmulTransposed(basis)
                var patched = clean[index]
                for i in 0..<patched.count { patched.scalars[i] += component.scalars[i] }
                let run = try model.forward(batch.clean, ForwardRequest(
                    cache: [Self.final], interventions: [Intervention(hook: site, action: .replace(patched))], computeLogits: false))
                total += batch.metrics(finalNormalized: run.cache[Self.final]!).reduce(0, +)
            }
            let patchedMetric = total / Double(pairCount)
            return gap == 0 ? 0 : (cleanMetric - patchedMetric) / gap
        }
    }

    /// The Gini coefficient of the effects' magnitudes: `Σᵢ (2i − n − 1) xᵢ / (n Σ x)` over `|effects|`
    /// sorted increasing (`i` from 1); 0 for all-zero effects, `(n − 1)/n` when one subspace has them all.
    public static func gini(_ effects: [Double]) -> Double {
        let sorted = effects.map(abs).sorted()
        let n = Double(sorted.count)
        let total = sorted.reduce(0, +)
        guard total > 0 else { return 0 }
        var weighted = 0.0
        for (index, value) in sorted.enumerated() { weighted += (2 * Double(index + 1) - n - 1) * value }
        return weighted / (n * total)
    }
}

/// The rotations NDM is compared with, each split into blocks of NDM's sizes in NDM's order.
public enum SubspaceBaseline: String, CaseIterable, Sendable, Codable {
    /// The model's own coordinates: block `s` is a run of consecutive basis vectors.
    case identity
    /// A random orthogonal rotation (Haar, seeded).
    case random
    /// The principal directions of the activations, largest variance first.
    case pca

    /// The rotation `[d, d]` of this baseline for `activations` `[n, d]`.
    public func rotation(activations: Tensor, seed: UInt64) -> Tensor {
        let (n, d) = (activations.shape[0], activations.shape[1])
        switch self {
        case .identity:
            return OrthogonalMatrix.identity(size: d)
        case .random:
            var rng = SeededRandom(seed: seed)
            return OrthogonalMatrix.random(size: d, rng: &rng)
        case .pca:
            var mean = [Double](repeating: 0, count: d)
            for row in 0..<n { for c in 0..<d { mean[c] += Double(activations.scalars[row * d + c]) / Double(n) } }
            var centred = activations
            for row in 0..<n { for c in 0..<d { centred.scalars[row * d + c] -= Float(mean[c]) } }
            let covariance = centred.transposedProduct(centred)
            let (_, vectors) = SymmetricEigen.decompose(covariance.scalars.map { Double($0) / Double(max(1, n - 1)) }, size: d)
            return try! Tensor(shape: [d, d], scalars: vectors.map { Float($0) })
        }
    }
}
