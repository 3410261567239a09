import Foundation
import LoupeAnalysis

/// The `subspaces:` section of `report.yaml`: where to learn NDM partitions and how to show them.
///
/// ```yaml
/// subspaces:
///   sites:
///     - hook: blocks.0.hook_resid_post
///       path: subspaces/resid0      # rotation.safetensors + partition.json + training_log.csv;
///                                   # trained on the report's corpus when the folder holds none yet
///       block_size: 8               # starting block size (columns)
///       threshold: 0.04             # merge pairs whose mutual information / sum of sizes exceeds this
///       steps: 2000                 # at most this many steps
///       merge_every: 500            # steps between merging rounds
///       samples: 16384              # corpus activations trained on
///       seed: 1                     # default: the report's seed
///   tasks: [ioi]          # causal check: toy tasks or task files (default: the circuits section's tasks)
///   examples: 64          # pairs per toy task
///   queries: 3            # example queries per subspace
///   neighbours: 20        # neighbours shown per query
///   similarity: 0.85      # cosine similarity inside the subspace above which activations are neighbours
/// ```
public struct SubspaceSpec: Equatable, Sendable {
    /// One site: the hook, where its partition lives, and how to train it.
    public struct Site: Equatable, Sendable {
        public var hook: String
        /// The partition's folder.
        public var path: URL
        public var training: SubspaceTrainingSettings
    }

    public var sites: [Site]
    /// Toy task names or task files (absolute paths).
    public var tasks: [String]
    public var examples: Int
    public var queries: Int
    public var neighbours: Int
    public var similarity: Double

    /// Reads the section; paths are relative to `base`, the spec's folder; `circuitTasks` are the default tasks.
    static func read(_ section: SpecReader, base: URL, seed: UInt64, circuitTasks: [String]) throws -> SubspaceSpec {
        try section.rejectUnknownKeys(["sites", "tasks", "examples", "queries", "neighbours", "similarity"])
        guard let list = section.mapping["sites"] as? [Any], !list.isEmpty else {
            throw section.invalid("sites", "must be a non-empty list of sites")
        }
        var paths: Set<URL> = []
        let sites = try list.enumerated().map { index, item -> Site in
            guard let mapping = item as? [String: Any] else { throw section.invalid("sites", "entry \(index + 1) is not a mapping") }
            let entry = SpecReader(path: section.path, prefix: section.prefix + "sites[\(index)].", mapping: mapping)
            try entry.rejectUnknownKeys(SubspaceTrainingSettings.keys.union(["hook", "path"]))
            let path = URL(fileURLWithPath: try entry.string("path"), relativeTo: base).standardizedFileURL
            guard paths.insert(path).inserted else { throw entry.invalid("path", "another site already uses \(path.path)") }
            return Site(hook: try entry.string("hook"), path: path, training: try SubspaceTrainingSettings.read(entry, seed: seed))
        }
        let tasks = try section.mapping["tasks"] == nil ? circuitTasks : tasks(section, base: base)
        return SubspaceSpec(
            sites: sites, tasks: tasks, examples: try section.integer("examples", default: 64, range: 1...100_000),
            queries: try section.integer("queries", default: 3, range: 1...100),
            neighbours: try section.integer("neighbours", default: 20, range: 1...1000),
            similarity: try section.number("similarity", default: 0.85, range: -1...1))
    }
}

extension SubspaceSpec {
    /// The `tasks` list of `reader`: toy task names kept, others resolved as files relative to `base`
    /// (absolute paths), each checked to exist.
    static func tasks(_ reader: SpecReader, base: URL) throws -> [String] {
        guard let names = reader.mapping["tasks"] as? [String] else {
            throw reader.invalid("tasks", "must be a list of toy task names or task files")
        }
        let toyNames = CircuitTask.toyTaskNames
        return try names.map { name in
            if toyNames.contains(name) { return name }
            let url = URL(fileURLWithPath: name, relativeTo: base).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw reader.invalid("tasks", "'\(name)' is neither a toy task (\(toyNames.joined(separator: ", "))) nor an existing file")
            }
            return url.path
        }
    }
}

/// The NDM settings a spec gives for one site (`report.yaml`'s `subspaces.sites[i]`, or a
/// `loupe subspaces` spec): every key optional.
public struct SubspaceTrainingSettings: Equatable, Sendable {
    /// The optimiser and merging settings.
    public var ndm: NDMSettings
    /// Corpus activations drawn from the store to train on.
    public var samples: Int

    static let keys: Set<String> = [
        "block_size", "threshold", "steps", "merge_every", "batch_size", "buffer_size", "learning_rate", "samples", "seed",
    ]

    /// Reads the keys above from `reader`; the seed defaults to `seed`.
    static func read(_ reader: SpecReader, seed: UInt64) throws -> SubspaceTrainingSettings {
        var ndm = NDMSettings()
        ndm.blockSize = try reader.integer("block_size", default: ndm.blockSize, range: 1...65_536)
        ndm.threshold = try reader.number("threshold", default: ndm.threshold, range: 0...1_000)
        ndm.steps = try reader.integer("steps", default: ndm.steps, range: 1...10_000_000)
        ndm.mergeEvery = try reader.integer("merge_every", default: ndm.mergeEvery, range: 1...10_000_000)
        ndm.batchSize = try reader.integer("batch_size", default: ndm.batchSize, range: 1...1_000_000)
        ndm.bufferSize = try reader.integer("buffer_size", default: ndm.bufferSize, range: 1...10_000_000)
        ndm.learningRate = Float(try reader.number("learning_rate", default: Double(ndm.learningRate), range: 1e-9...10))
        ndm.seed = UInt64(try reader.integer("seed", default: Int(seed), range: 0...Int.max))
        let samples = try reader.integer("samples", default: 16_384, range: 2...100_000_000)
        guard samples > ndm.batchSize else {
            throw reader.invalid("samples", "\(samples) activations are too few for batches of \(ndm.batchSize) (batch_size) and a buffer")
        }
        return SubspaceTrainingSettings(ndm: ndm, samples: samples)
    }
}
