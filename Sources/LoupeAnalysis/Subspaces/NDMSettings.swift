/// The settings of neighbour distance minimisation (NDM): the starting blocks, the optimiser, the
/// neighbour search and the mutual-information merging schedule.
public struct NDMSettings: Sendable, Equatable {
    /// Columns per starting block (the last block takes the remainder).
    public var blockSize: Int
    /// Merge two blocks when their mutual information divided by the sum of their sizes exceeds this.
    public var threshold: Double
    /// At most this many optimiser steps in all.
    public var steps: Int
    /// Optimiser steps between two merging rounds.
    public var mergeEvery: Int
    /// Activations whose neighbours are searched per step (`B`).
    public var batchSize: Int
    /// Activations searched for those neighbours per step (`M`), drawn anew each step, disjoint from the batch.
    public var bufferSize: Int
    /// Adam's learning rate.
    public var learningRate: Float
    /// The gradient's Euclidean norm is clipped to this.
    public var clip: Float
    /// Pairs merged per round at most; `nil`: one per eight blocks (at least one).
    public var mergesPerRound: Int?
    /// Groups of `mutualInformationBatch` activations whose KSG estimates are averaged per round.
    public var mutualInformationBatches: Int
    /// Activations per KSG estimate.
    public var mutualInformationBatch: Int
    /// Seeds the batches, buffers and merging samples.
    public var seed: UInt64

    public init(
        blockSize: Int = 8, threshold: Double = 0.04, steps: Int = 2000, mergeEvery: Int = 500, batchSize: Int = 256,
        bufferSize: Int = 4096, learningRate: Float = 1e-3, clip: Float = 1, mergesPerRound: Int? = nil,
        mutualInformationBatches: Int = 20, mutualInformationBatch: Int = 128, seed: UInt64 = 0
    ) {
        self.blockSize = blockSize
        self.threshold = threshold
        self.steps = steps
        self.mergeEvery = mergeEvery
        self.batchSize = batchSize
        self.bufferSize = bufferSize
        self.learningRate = learningRate
        self.clip = clip
        self.mergesPerRound = mergesPerRound
        self.mutualInformationBatches = mutualInformationBatches
        self.mutualInformationBatch = mutualInformationBatch
        self.seed = seed
    }

    /// Throws for a setting out of range for activations of width `width` and `rows` samples.
    func check(width: Int, rows: Int) throws {
        func require(_ condition: Bool, _ reason: String) throws {
            if !condition { throw SubspaceError.invalidInput(reason: reason) }
        }
        try require(width >= 2, "the site's width is \(width); subspaces need at least 2 columns")
        try require(blockSize >= 1 && blockSize <= width, "block_size is \(blockSize); it must be in 1...\(width) (the site's width)")
        try require(threshold.isFinite && threshold >= 0, "threshold must be a non-negative number, got \(threshold)")
        try require(steps >= 1, "steps must be positive, got \(steps)")
        try require(mergeEvery >= 1, "merge_every must be positive, got \(mergeEvery)")
        try require(batchSize >= 1, "batch_size must be positive, got \(batchSize)")
        try require(bufferSize >= 1, "buffer_size must be positive, got \(bufferSize)")
        try require(learningRate > 0 && learningRate.isFinite, "learning_rate must be positive, got \(learningRate)")
        try require(clip > 0 && clip.isFinite, "clip must be positive, got \(clip)")
        try require(mergesPerRound.map { $0 >= 1 } ?? true, "merges_per_round must be positive")
        try require(mutualInformationBatches >= 1, "mutual_information_batches must be positive")
        try require(mutualInformationBatch >= 3, "mutual_information_batch must be at least 3")
        try require(rows >= batchSize + 1, "\(rows) activations are too few for batches of \(batchSize) and a buffer")
        try require(rows >= mutualInformationBatch, "\(rows) activations are too few for mutual-information batches of \(mutualInformationBatch)")
    }
}
