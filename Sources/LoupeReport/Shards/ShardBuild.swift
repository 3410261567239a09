import Foundation
import LoupeAnalysis
import LoupeFindings

/// What one shard of a sharded build computes (`loupe build SPEC --shard i/n`), left in
/// `findings/shards/<i>-of-<n>/` for `loupe merge`. First round (`run`): its slice of the corpus
/// through the model into its own activation store, and every hook's first atlas pass over it.
/// Second round (`runSecondPass`, once every shard has finished its first): every hook's second pass
/// over the store with the maxima of all shards, so the merge only combines. Dictionaries must exist
/// already: a dictionary trained on the whole corpus cannot be trained from one slice.
struct ShardBuild {
    let context: BuildContext
    let inputs: ReportInputs

    func run(shard: Shard, folder: URL, fingerprint: String) throws {
        let spec = context.spec
        for (index, entry) in spec.hooks.enumerated() where entry.hasDictionary && inputs.dictionaries[index] == nil {
            throw BuildError(
                step: .dictionary(hook: entry.hook), path: spec.specURL.path,
                reason: "key 'hooks[\(index)].dictionary': a sharded build needs the dictionary to exist; train it with an unsharded 'loupe build' first")
        }
        try withStep(.store, path: folder.path) {
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let windows = try context.timed(.corpus) { try CorpusStep(context: context, inputs: inputs).run().windows }
        let range = shard.windowRange(of: windows)
        context.note(.store, "shard \(shard): windows \(range.lowerBound)..<\(range.upperBound) of \(windows.count)")
        let store: ActivationStore? = range.isEmpty ? nil : try context.timed(.store) {
            try StoreStep(context: context, inputs: inputs).run(
                windows: Array(windows[range]), directory: ShardRecord.storeDirectory(in: folder), evaluating: false,
                windowStride: windows.map(\.documentTokenCount).max()).store
        }
        let atlas = AtlasStep(context: context, inputs: inputs)
        for (index, entry) in spec.hooks.enumerated() {
            let dictionary = inputs.dictionaries[index]
            let codes = FirstPassStatistics.coFiringCodesFile(folder, ShardRecord.firstPassName(hook: index))
            let first = try context.timed(.atlas(hook: entry.hook)) { () throws -> FirstPassStatistics in
                if let store { return try atlas.firstPass(entry: entry, dictionary: dictionary, store: store, coFiringCodes: codes) }
                let width = try inputs.model.rowWidth(ofHook: entry.hook)
                return try FirstPassStatistics(
                    hook: entry.hook, featureCount: dictionary?.width ?? width, inputWidth: width, options: atlas.options, coFiringCodes: codes)
            }
            try withStep(.atlas(hook: entry.hook), path: folder.path) {
                try first.write(to: folder, name: ShardRecord.firstPassName(hook: index))
                try JSONWriter.encode(ShardMaxima(first)).write(to: folder.appendingPathComponent(ShardRecord.maximaName(hook: index)), options: .atomic)
            }
        }
        let record = ShardRecord(
            fingerprint: fingerprint, index: shard.index, count: shard.count, windows: [range.lowerBound, range.upperBound],
            hooks: spec.hooks.map(\.hook))
        try withStep(.store, path: folder.path) { try record.write(in: folder) }
    }

    /// The second round of the shard in `folder` (its first round done), with the maxima of all `shards`.
    func runSecondPass(shards: ShardSet, folder: URL, record: ShardRecord) throws {
        let spec = context.spec
        let atlas = AtlasStep(context: context, inputs: inputs)
        let builder = AtlasBuilder(options: atlas.options)
        let store = record.hasWindows ? try ActivationStore(directory: ShardRecord.storeDirectory(in: folder)) : nil
        for (index, entry) in spec.hooks.enumerated() {
            let step = BuildStep.atlas(hook: entry.hook)
            try context.timed(step) {
                try withStep(step, path: folder.path) {
                    var second = try shards.emptySecondPass(hook: index)
                    if let store {
                        let progress = context.track(step, "second atlas pass of \(entry.hook)", total: store.chunkCount, unit: "chunks")
                        defer { progress.finish() }
                        second = try builder.secondPass(
                            store: store, start: second, encoder: AtlasStep.encoder(inputs.dictionaries[index]), progress: { progress.update($0.done) })
                    }
                    try second.write(to: folder, name: ShardRecord.secondPassName(hook: index))
                }
            }
        }
        var done = record
        done.secondPass = true
        try withStep(.store, path: folder.path) { try done.write(in: folder) }
    }
}
