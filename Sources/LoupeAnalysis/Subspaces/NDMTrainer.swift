import LoupeCore

/// One optimiser step of NDM as the training log records it.
public struct NDMStepRecord: Sendable, Equatable {
    /// 1-based step number.
    public var step: Int
    /// Mean over blocks of the mean distance from each batch activation to its nearest buffer activation inside the block.
    public var loss: Double
    /// Blocks during the step.
    public var blocks: Int
    /// Euclidean norm of the gradient before clipping.
    public var gradientNorm: Double
}

/// Two blocks joined by a merging round.
public struct NDMMerge: Sendable, Equatable, Codable {
    /// Indices of the two blocks in the partition before the round.
    public var first: Int, second: Int
    /// Their sizes.
    public var firstSize: Int, secondSize: Int
    /// Their KSG mutual information (nats) and that divided by the sum of their sizes.
    public var mutualInformation: Double, normalised: Double
}

/// A merging round: after `step`, every pair's normalised mutual information was estimated.
public struct NDMRound: Sendable, Equatable, Codable {
    /// Optimiser steps done before the round.
    public var step: Int
    /// Block sizes before the round.
    public var sizesBefore: [Int]
    /// The largest normalised mutual information of any pair.
    public var largestNormalised: Double
    /// The pairs merged (all above the threshold, disjoint, at most the round's limit).
    public var merges: [NDMMerge]
    /// Block sizes after the round (largest first when anything merged).
    public var sizesAfter: [Int]
}

/// Neighbour distance minimisation: learns an orthogonal `R` `[d, d]` and a split of its columns into
/// blocks so that, inside each block, activations lie close to their nearest neighbours.
///
/// Each step draws a batch `X_b` `[B, d]` and a disjoint buffer `X_m` `[M, d]` from the activations;
/// in block `s` (columns `C_s`) it finds each batch row's nearest buffer row in `z = x R` (exact search,
/// no gradient through it), and the loss is `mean_s mean_i ‖(x_i − x_nn(i)) R_{C_s}‖` with gradient
/// `∂/∂R_{C_s} = Δ_sᵀ U_s / (B·S)` (`Δ_s` the differences `[B, d]`, `U_s` the unit differences in the
/// block `[B, |C_s|]`). Adam with the gradient norm clipped, then `R` is retracted onto the orthogonal
/// matrices (QR). Blocks stay consecutive columns of `R`; every `mergeEvery` steps pairs whose KSG
/// mutual information over the sum of their sizes exceeds the threshold are merged (greedily, largest
/// first, disjoint, at most `mergesPerRound`), the blocks reordered largest first and Adam restarted;
/// training ends at a round that merges nothing, or after `steps` steps.
public struct NDMTrainer {
    /// The hook point trained on.
    public let site: String
    public let settings: NDMSettings
    /// `[P, d]`: the activations batches and buffers are drawn from.
    public let activations: Tensor
    /// `[d, d]`, orthogonal; block `s` is columns `ranges[s]`.
    public private(set) var rotation: Tensor
    /// Size of each block, in column order.
    public private(set) var sizes: [Int]
    /// Steps taken.
    public private(set) var step = 0
    /// Every step's record.
    public private(set) var log: [NDMStepRecord] = []
    /// Every merging round.
    public private(set) var rounds: [NDMRound] = []
    /// Whether a round merged nothing (training is over).
    public private(set) var converged = false

    private var firstMoment: Tensor
    private var secondMoment: Tensor
    private var adamSteps = 0
    private var rng: SeededRandom

    public init(site: String, activations: Tensor, settings: NDMSettings) throws {
        guard activations.rank == 2 else { throw SubspaceError.invalidInput(reason: "activations must be [rows, width], got \(activations.shape)") }
        let (rows, width) = (activations.shape[0], activations.shape[1])
        try settings.check(width: width, rows: rows)
        if let bad = activations.scalars.firstIndex(where: { !$0.isFinite }) {
            throw SubspaceError.invalidInput(reason: "activation row \(bad / width) holds a value that is not finite")
        }
        self.site = site
        self.settings = settings
        self.activations = activations
        rotation = OrthogonalMatrix.identity(size: width)
        sizes = SubspacePartition.equal(site: site, width: width, blockSize: settings.blockSize).sizes
        firstMoment = Tensor(shape: [width, width])
        secondMoment = Tensor(shape: [width, width])
        rng = SeededRandom(seed: settings.seed)
    }

    /// Width `d`.
    public var width: Int { activations.shape[1] }

    /// The column range of each block.
    public var ranges: [Range<Int>] {
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return start..<(start + size)
        }
    }

    /// The current partition (consecutive columns of `rotation`).
    public var partition: SubspacePartition { SubspacePartition(site: site, sizes: sizes) }

    /// Runs the whole schedule; `progress(step, total, record)` after every step.
    public mutating func train(progress: ((Int, Int, NDMStepRecord) -> Void)? = nil) {
        while step < settings.steps && !converged {
            let record = trainStep()
            progress?(step, settings.steps, record)
            if step % settings.mergeEvery == 0 && step < settings.steps { mergeRound() }
        }
    }

    /// `count` distinct row indices drawn uniformly (a partial Fisher–Yates shuffle).
    private mutating func distinctRows(_ count: Int) -> [Int] {
        let rows = activations.shape[0]
        var indices = Array(0..<rows)
        for i in 0..<min(count, rows - 1) {
            indices.swapAt(i, i + rng.nextInt(below: rows - i))
        }
        return Array(indices.prefix(count))
    }

    /// One optimiser step.
    @discardableResult
    public mutating func trainStep() -> NDMStepRecord {
        let rows = activations.shape[0]
        let batchCount = settings.batchSize
        let bufferCount = min(settings.bufferSize, rows - batchCount)
        let drawn = distinctRows(batchCount + bufferCount)
        let batch = activations.gatherRows(Array(drawn.prefix(batchCount)))
        let buffer = activations.gatherRows(Array(drawn.suffix(bufferCount)))
        let (loss, unclipped) = Self.lossAndGradient(batch: batch, buffer: buffer, rotation: rotation, ranges: ranges)
        var gradient = unclipped
        let blockCount = sizes.count
        let norm = gradient.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        if norm > Double(settings.clip) {
            let factor = Float(Double(settings.clip) / norm)
            for i in gradient.scalars.indices { gradient.scalars[i] *= factor }
        }
        adamSteps += 1
        rotation.adamWUpdate(
            gradient: gradient, m: &firstMoment, v: &secondMoment,
            AdamWStep(learningRate: settings.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, step: adamSteps))
        rotation = OrthogonalMatrix.retract(rotation)
        step += 1
        let record = NDMStepRecord(step: step, loss: loss, blocks: blockCount, gradientNorm: norm)
        log.append(record)
        return record
    }

    /// The NDM loss of `batch` `[B, d]` against `buffer` `[M, d]` under `rotation` `[d, d]` with blocks
    /// `ranges` (each batch row's nearest buffer row searched inside each block), and its gradient
    /// with respect to `rotation` `[d, d]` (the neighbours held fixed).
    public static func lossAndGradient(batch: Tensor, buffer: Tensor, rotation: Tensor, ranges: [Range<Int>]) -> (loss: Double, gradient: Tensor) {
        let (batchCount, d) = (batch.shape[0], batch.shape[1])
        let projectedBatch = try! batch.matmul(rotation)
        let projectedBuffer = try! buffer.matmul(rotation)
        var gradient = Tensor(shape: [d, d])
        var loss = 0.0
        let scale = 1 / Float(batchCount * ranges.count)
        let neighbours = projectedBuffer.nearestRows(to: projectedBatch, blocks: ranges)
        for (range, nearest) in zip(ranges, neighbours) {
            let k = range.count
            var differences = Tensor(shape: [batchCount, d])
            var units = Tensor(shape: [batchCount, k])
            var blockLoss = 0.0
            for i in 0..<batchCount {
                let j = nearest[i]
                var squared: Float = 0
                for (c, column) in range.enumerated() {
                    let difference = projectedBatch.scalars[i * d + column] - projectedBuffer.scalars[j * d + column]
                    units.scalars[i * k + c] = difference
                    squared += difference * difference
                }
                let distance = squared.squareRoot()
                blockLoss += Double(distance)
                let inverse = distance > 0 ? scale / distance : 0
                for c in 0..<k { units.scalars[i * k + c] *= inverse }
                for c in 0..<d { differences.scalars[i * d + c] = batch.scalars[i * d + c] - buffer.scalars[j * d + c] }
            }
            loss += blockLoss / Double(batchCount)
            let blockGradient = differences.transposedProduct(units)
            for row in 0..<d {
                for (c, column) in range.enumerated() { gradient.scalars[row * d + column] = blockGradient.scalars[row * k + c] }
            }
        }
        return (loss / Double(ranges.count), gradient)
    }

    /// The KSG mutual information of every pair of blocks, `[a][b]` for `a < b`, averaged over
    /// `mutualInformationBatches` samples; each block's distances are divided by the square root of
    /// its total variance over all the samples.
    public mutating func mutualInformation() -> [[Double]] {
        let samples = (0..<settings.mutualInformationBatches).map { _ in distinctRows(settings.mutualInformationBatch) }
        let projected = try! activations.gatherRows(samples.flatMap { $0 }).matmul(rotation)
        let d = width
        let n = projected.shape[0]
        let scales = ranges.map { range -> Double in
            var total = 0.0
            for column in range {
                var sum = 0.0, squares = 0.0
                for row in 0..<n {
                    let value = Double(projected.scalars[row * d + column])
                    sum += value
                    squares += value * value
                }
                total += max(0, squares / Double(n) - (sum / Double(n)) * (sum / Double(n)))
            }
            return max(total, 1e-12).squareRoot()
        }
        let perBatch = settings.mutualInformationBatch
        var mean = [[Double]](repeating: [Double](repeating: 0, count: sizes.count), count: sizes.count)
        for batch in 0..<samples.count {
            let rows = try! Tensor(shape: [perBatch, d], scalars: Array(projected.scalars[(batch * perBatch * d)..<((batch + 1) * perBatch * d)]))
            let estimate = MutualInformation.ksg(points: rows, blocks: ranges, scales: scales)
            for a in 0..<sizes.count { for b in 0..<sizes.count { mean[a][b] += estimate[a][b] / Double(samples.count) } }
        }
        return mean
    }

    /// A merging round: estimates every pair's mutual information and merges those above the
    /// threshold; a round that merges nothing ends training.
    @discardableResult
    public mutating func mergeRound() -> NDMRound {
        let before = sizes
        guard sizes.count > 1 else {
            converged = true
            let round = NDMRound(step: step, sizesBefore: before, largestNormalised: 0, merges: [], sizesAfter: before)
            rounds.append(round)
            return round
        }
        let information = mutualInformation()
        var candidates: [NDMMerge] = []
        for a in 0..<sizes.count {
            for b in (a + 1)..<sizes.count {
                let value = information[a][b]
                candidates.append(NDMMerge(
                    first: a, second: b, firstSize: sizes[a], secondSize: sizes[b], mutualInformation: value,
                    normalised: value / Double(sizes[a] + sizes[b])))
            }
        }
        candidates.sort { $0.normalised == $1.normalised ? ($0.first, $0.second) < ($1.first, $1.second) : $0.normalised > $1.normalised }
        let limit = settings.mergesPerRound ?? max(1, sizes.count / 8)
        var covered = Set<Int>()
        var merges: [NDMMerge] = []
        for candidate in candidates where candidate.normalised > settings.threshold && merges.count < limit {
            guard !covered.contains(candidate.first) && !covered.contains(candidate.second) else { continue }
            merges.append(candidate)
            covered.formUnion([candidate.first, candidate.second])
        }
        if merges.isEmpty {
            converged = true
        } else {
            var clusters = merges.map { [$0.first, $0.second] }
            clusters += (0..<sizes.count).filter { !covered.contains($0) }.map { [$0] }
            let clusterSizes = clusters.map { $0.reduce(0) { $0 + sizes[$1] } }
            let order = clusters.indices.sorted { clusterSizes[$0] == clusterSizes[$1] ? $0 < $1 : clusterSizes[$0] > clusterSizes[$1] }
            let oldRanges = ranges
            let columns = order.flatMap { clusters[$0].flatMap { Array(oldRanges[$0]) } }
            let d = width
            var reordered = Tensor(shape: [d, d])
            for row in 0..<d {
                for (newColumn, oldColumn) in columns.enumerated() { reordered.scalars[row * d + newColumn] = rotation.scalars[row * d + oldColumn] }
            }
            rotation = reordered
            sizes = order.map { clusterSizes[$0] }
            firstMoment = Tensor(shape: [d, d])
            secondMoment = Tensor(shape: [d, d])
            adamSteps = 0
        }
        let round = NDMRound(
            step: step, sizesBefore: before, largestNormalised: candidates.first?.normalised ?? 0, merges: merges, sizesAfter: sizes)
        rounds.append(round)
        return round
    }

    /// The training log as CSV: `step,loss,blocks,gradient_norm`.
    public var logCSV: String {
        "step,loss,blocks,gradient_norm\n" + log.map { "\($0.step),\($0.loss),\($0.blocks),\($0.gradientNorm)\n" }.joined()
    }
}
