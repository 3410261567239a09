import Foundation
import LoupeAnalysis

/// The finished shards of a sharded build, as `loupe merge` finds them in `findings/shards/`:
/// every shard of one count, each computed from the current inputs.
struct ShardSet {
    /// `findings/shards/`.
    let directory: URL
    /// The shards' folders and records, by shard index.
    let shards: [(folder: URL, record: ShardRecord)]

    /// `findings/shards/` of `spec`.
    static func directory(of spec: ReportSpec) -> URL { spec.findingsDirectory.appendingPathComponent("shards") }

    /// The complete set of shards of `spec` computed from inputs with `fingerprint`; fails naming
    /// the shards missing or stale and the commands that make them.
    static func load(spec: ReportSpec, fingerprint: String) throws -> ShardSet {
        let directory = Self.directory(of: spec)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let found = names.sorted().compactMap { name -> (URL, ShardRecord)? in
            let folder = directory.appendingPathComponent(name)
            guard let record = ShardRecord.read(in: folder), name == "\(record.index)-of-\(record.count)" else { return nil }
            return (folder, record)
        }
        let command = "loupe build \(spec.specURL.path) --shard"
        guard let count = found.map(\.1.count).max() else {
            throw BuildError(step: .merge, path: directory.path,
                             reason: "no finished shard here: run '\(command) i/n' for every i in 0..<n first")
        }
        let counts = Set(found.map(\.1.count))
        guard counts.count == 1 else {
            throw BuildError(step: .merge, path: directory.path,
                             reason: "shards of \(counts.sorted().map(String.init).joined(separator: " and ")) are mixed here: remove the folder and build one set")
        }
        let present = Dictionary(uniqueKeysWithValues: found.map { ($0.1.index, $0) })
        let missing = (0..<count).filter { present[$0] == nil }
        guard missing.isEmpty else {
            let which = missing.map { "\($0)/\(count)" }.joined(separator: ", ")
            throw BuildError(step: .merge, path: directory.path,
                             reason: "shard\(missing.count == 1 ? "" : "s") \(which) \(missing.count == 1 ? "is" : "are") missing or unfinished: run '\(command) \(missing[0])/\(count)'\(missing.count > 1 ? " and the others" : "")")
        }
        let stale = (0..<count).filter { present[$0]!.1.fingerprint != fingerprint || present[$0]!.1.hooks != spec.hooks.map(\.hook) }
        guard stale.isEmpty else {
            let which = stale.map { "\($0)/\(count)" }.joined(separator: ", ")
            throw BuildError(step: .merge, path: directory.path,
                             reason: "shard\(stale.count == 1 ? "" : "s") \(which) \(stale.count == 1 ? "was" : "were") computed from other inputs than the spec's now: run '\(command) \(stale[0])/\(count)'\(stale.count > 1 ? " and the others" : "") again")
        }
        return ShardSet(directory: directory, shards: (0..<count).map { present[$0]! }.map { (folder: $0.0, record: $0.1) })
    }

    /// The shards' activation stores read as one (shards without windows have none).
    func store() throws -> ActivationStore {
        let parts = try shards.filter { $0.record.hasWindows }.map {
            try ActivationStore(directory: ShardRecord.storeDirectory(in: $0.folder))
        }
        return try ActivationStore(union: parts, directory: directory)
    }

    /// Empty second-pass statistics of the spec's `hook`-th hook with the maxima over the whole corpus
    /// (each feature's largest over the shards' `maxima-<k>.json`), as a shard's second round starts.
    func emptySecondPass(hook: Int) throws -> SecondPassStatistics {
        var merged: ShardMaxima?
        for shard in shards {
            let url = shard.folder.appendingPathComponent(ShardRecord.maximaName(hook: hook))
            guard let data = try? Data(contentsOf: url), let maxima = try? JSONDecoder().decode(ShardMaxima.self, from: data),
                  maxima.maxima.count == maxima.featureCount
            else {
                throw BuildError(step: .merge, path: url.path, reason: "is missing or does not hold a shard's maxima: run the shard's first round again")
            }
            guard var sum = merged else { merged = maxima; continue }
            guard sum.hook == maxima.hook, sum.featureCount == maxima.featureCount, sum.inputWidth == maxima.inputWidth, sum.options == maxima.options else {
                throw BuildError(step: .merge, path: url.path, reason: "belongs to other statistics than the first shard's (hook, features, width or options)")
            }
            for f in 0..<sum.featureCount { sum.maxima[f] = max(sum.maxima[f], maxima.maxima[f]) }
            merged = sum
        }
        let m = merged!
        return try SecondPassStatistics(hook: m.hook, featureCount: m.featureCount, inputWidth: m.inputWidth, maxima: m.maxima, options: m.options)
    }

    /// The first-pass statistics of the spec's `hook`-th hook over the whole corpus: every shard's, merged in order.
    func firstPass(hook: Int) throws -> FirstPassStatistics {
        let name = ShardRecord.firstPassName(hook: hook)
        var merged = try FirstPassStatistics.read(from: shards[0].folder, name: name)
        for shard in shards.dropFirst() {
            try merged.merge(FirstPassStatistics.read(from: shard.folder, name: name))
        }
        return merged
    }

    /// The second-pass statistics of the spec's `hook`-th hook over the whole corpus, with the maxima
    /// of `first` (the merged first pass): each shard's from its second round, or computed here over
    /// its store when it had none, merged in order.
    func secondPass(hook: Int, first: FirstPassStatistics, encoder: FeatureEncoder, builder: AtlasBuilder) throws -> SecondPassStatistics {
        var merged = try SecondPassStatistics(first: first)
        for shard in shards {
            if shard.record.secondPass {
                try merged.merge(SecondPassStatistics.read(from: shard.folder, name: ShardRecord.secondPassName(hook: hook)))
            } else if shard.record.hasWindows {
                let store = try ActivationStore(directory: ShardRecord.storeDirectory(in: shard.folder))
                try merged.merge(builder.secondPass(store: store, first: first, encoder: encoder))
            }
        }
        return merged
    }
}
