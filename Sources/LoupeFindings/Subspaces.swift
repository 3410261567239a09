/// The findings section of the subspace analysis (NDM): per site, the learned split of the hook
/// point's rotated space into subspaces, what each subspace's neighbours share, and each subspace's
/// causal effect on each task next to the baselines'.
public struct SubspaceFindings: Codable, Sendable, Equatable {
    /// Cosine similarity inside a subspace above which two activations count as neighbours.
    public var similarity: Double
    /// The sites, in the spec's order.
    public var sites: [SubspaceSiteFindings]

    public init(similarity: Double, sites: [SubspaceSiteFindings]) {
        self.similarity = similarity
        self.sites = sites
    }
}

/// One site's partition: its training, subspaces and causal checks.
public struct SubspaceSiteFindings: Codable, Sendable, Equatable {
    /// The site's page folder name (`subspaces/<slug>/`).
    public var slug: String
    /// The hook point.
    public var hook: String
    /// Its width `d`.
    public var width: Int
    /// The folder holding `rotation.safetensors`, `partition.json` and `training_log.csv`, relative to the report.
    public var path: String
    /// How the partition was learned.
    public var training: SubspaceTrainingSummary
    /// The subspaces, in the partition's order (largest first after merging).
    public var subspaces: [SubspaceBlock]
    /// The causal check on each task.
    public var tasks: [SubspaceTaskFindings]

    public init(
        slug: String, hook: String, width: Int, path: String, training: SubspaceTrainingSummary, subspaces: [SubspaceBlock],
        tasks: [SubspaceTaskFindings]
    ) {
        self.slug = slug
        self.hook = hook
        self.width = width
        self.path = path
        self.training = training
        self.subspaces = subspaces
        self.tasks = tasks
    }
}

/// How a partition was learned: settings, loss curve and merging rounds.
public struct SubspaceTrainingSummary: Codable, Sendable, Equatable {
    /// Corpus activations trained on.
    public var samples: Int
    /// Columns per starting block.
    public var blockSize: Int
    /// The merging threshold on mutual information over the sum of sizes.
    public var threshold: Double
    /// Optimiser steps taken.
    public var steps: Int
    /// Whether training ended at a round that merged nothing (otherwise at the step limit).
    public var converged: Bool
    /// The loss, averaged over buckets of steps.
    public var lossCurve: [LossPoint]
    /// Every merging round.
    public var rounds: [SubspaceMergeRound]

    public init(
        samples: Int, blockSize: Int, threshold: Double, steps: Int, converged: Bool, lossCurve: [LossPoint], rounds: [SubspaceMergeRound]
    ) {
        self.samples = samples
        self.blockSize = blockSize
        self.threshold = threshold
        self.steps = steps
        self.converged = converged
        self.lossCurve = lossCurve
        self.rounds = rounds
    }
}

/// A merging round of NDM.
public struct SubspaceMergeRound: Codable, Sendable, Equatable {
    /// Steps done before the round.
    public var step: Int
    /// Block sizes before and after.
    public var sizesBefore: [Int]
    public var sizesAfter: [Int]
    /// The largest normalised mutual information of any pair.
    public var largestNormalised: Double
    /// Normalised mutual information of each pair merged, in the order merged.
    public var merged: [Double]

    public init(step: Int, sizesBefore: [Int], sizesAfter: [Int], largestNormalised: Double, merged: [Double]) {
        self.step = step
        self.sizesBefore = sizesBefore
        self.sizesAfter = sizesAfter
        self.largestNormalised = largestNormalised
        self.merged = merged
    }
}

/// One subspace: its size, share of the variance, effects and example neighbourhoods.
public struct SubspaceBlock: Codable, Sendable, Equatable {
    /// 1-based number on the site (`s1`, `s2`, …), in partition order.
    public var number: Int
    /// Columns of the rotation in it.
    public var size: Int
    /// Share of the activations' total variance (about their mean) inside the subspace.
    public var variance: Double
    /// Effect on each task, in the order of `SubspaceSiteFindings.tasks`.
    public var effects: [Double]
    /// Example query activations and their neighbours inside the subspace.
    public var queries: [SubspaceQuery]

    public init(number: Int, size: Int, variance: Double, effects: [Double], queries: [SubspaceQuery]) {
        self.number = number
        self.size = size
        self.variance = variance
        self.effects = effects
        self.queries = queries
    }
}

/// A corpus token in context: the window's tokens around it and which one it is.
public struct SubspaceToken: Codable, Sendable, Equatable {
    public var document: Int
    public var position: Int
    /// Display strings of the tokens around it (up to 10 before, 5 after).
    public var tokens: [String]
    /// Index of the token itself in `tokens`.
    public var index: Int
    /// Cosine similarity to the query inside the subspace (1 for the query itself).
    public var similarity: Double

    public init(document: Int, position: Int, tokens: [String], index: Int, similarity: Double) {
        self.document = document
        self.position = position
        self.tokens = tokens
        self.index = index
        self.similarity = similarity
    }
}

/// One query of a subspace page: a corpus token and its neighbours inside the subspace.
public struct SubspaceQuery: Codable, Sendable, Equatable {
    public var query: SubspaceToken
    /// Sample activations above the similarity threshold (the query's own excluded).
    public var inside: Int
    /// Activations compared.
    public var compared: Int
    /// Up to the spec's number of neighbours above the threshold, drawn at random, most similar first.
    public var neighbours: [SubspaceToken]
    /// What the activations above the threshold share that those below do not (as on neighbourhood pages).
    public var shared: [SharedStatement]

    public init(query: SubspaceToken, inside: Int, compared: Int, neighbours: [SubspaceToken], shared: [SharedStatement]) {
        self.query = query
        self.inside = inside
        self.compared = compared
        self.neighbours = neighbours
        self.shared = shared
    }
}

/// The causal check of one task at a site: each subspace's effect, for NDM and each baseline.
public struct SubspaceTaskFindings: Codable, Sendable, Equatable {
    /// Task name (a toy task) or file name.
    public var task: String
    /// Prompt pairs measured.
    public var pairs: Int
    /// Mean metric (logit difference) on the clean and the corrupted prompts.
    public var cleanMetric: Double
    public var corruptedMetric: Double
    /// NDM first (`ndm`), then `identity`, `random` and `pca` with the same block sizes.
    public var bases: [SubspaceBasisEffects]

    public init(task: String, pairs: Int, cleanMetric: Double, corruptedMetric: Double, bases: [SubspaceBasisEffects]) {
        self.task = task
        self.pairs = pairs
        self.cleanMetric = cleanMetric
        self.corruptedMetric = corruptedMetric
        self.bases = bases
    }
}

/// The effects of one basis's blocks on a task, and their Gini coefficient.
public struct SubspaceBasisEffects: Codable, Sendable, Equatable {
    /// `ndm`, `identity`, `random` or `pca`.
    public var basis: String
    /// Effect of each block, `(M(clean) − M(patched)) / (M(clean) − M(corrupted))`, in partition order.
    public var effects: [Double]
    /// Gini coefficient of the effects' magnitudes.
    public var gini: Double

    public init(basis: String, effects: [Double], gini: Double) {
        self.basis = basis
        self.effects = effects
        self.gini = gini
    }
}
