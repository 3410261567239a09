import Foundation
import LoupeFindings
import LoupeSite

/// A report, from spec to site: the library behind `loupe build` and `loupe merge`.
///
/// ```swift
/// let spec = try ReportSpec.load(url: URL(fileURLWithPath: "Reports/demo/report.yaml"))
/// let findings = try Report.build(spec: spec)
/// try Report.render(findings: findings, title: spec.title, to: spec.siteDirectory)
/// ```
///
/// `build` runs the named steps (`BuildStep`) in order, or returns the cached findings when every
/// input is unchanged; `render` writes the static site from findings alone. A sharded build runs
/// `buildShard` for every shard (twice: two rounds), then `build` with `mergingShards`. All throw `BuildError`.
public enum Report {
    /// The findings of `spec`: from `<report>/findings/` when a cached file's input fingerprint
    /// matches (unless `force`; the model is then not even loaded), else computed step by step and
    /// cached. `progress` receives the build's events (a `.timed` one at the end of each phase, also
    /// written to `findings/timings.json`); `environment` is read for the optional language-model endpoint
    /// (`LOUPE_LLM_*`, part of the fingerprint), whose answers are kept under `findings/llm-cache/` and
    /// reused unless `refreshLanguageModel`.
    ///
    /// With `mergingShards`, the findings of a sharded build (`loupe merge`): every shard in
    /// `findings/shards/` (which must all exist and come from the current inputs) combined and the
    /// rest of the build run on them, cached like an unsharded build's, which they equal byte for
    /// byte. The shards are removed once the findings are saved.
    public static func build(
        spec: ReportSpec, force: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        refreshLanguageModel: Bool = false, mergingShards merging: Bool = false,
        progress: @escaping BuildProgress = { _ in }
    ) throws -> ReportFindings {
        let cache = FindingsCache(directory: spec.findingsDirectory)
        var digests = FileDigests()
        let languageModel = InputFingerprint.languageModel(environment)
        let before = try InputFingerprint.of(spec, languageModel: languageModel, digests: &digests)
        if !force, let findings = cache.findings(fingerprint: before) {
            progress(.note(.cache, "inputs unchanged: reusing \(cache.file(fingerprint: before).path)"))
            return findings
        }
        var timings = BuildTimings()
        let context = BuildContext(spec: spec, environment: environment, refreshLanguageModel: refreshLanguageModel) { event in
            if case let .timed(phase) = event { timings.phases.append(phase) }
            progress(event)
        }
        let shards = merging ? try ShardSet.load(spec: spec, fingerprint: InputFingerprint.of(spec, digests: &digests)) : nil
        let inputs = try context.timed(.inputs) { try ReportInputs.load(spec: spec) }
        let findings = try ReportPipeline(context: context, inputs: inputs, shards: shards).run()
        // Training a dictionary writes it into the inputs: the cache is named by the inputs as they are now.
        try context.timed(.cache) { try cache.store(findings, fingerprint: try InputFingerprint.of(spec, languageModel: languageModel, digests: &digests)) }
        try cache.store(timings)
        BuildCheckpoints(spec: spec).removeAll()
        if let shards { try? FileManager.default.removeItem(at: shards.directory) }
        return findings
    }

    /// Computes one shard of a sharded build in `findings/shards/<i>-of-<n>/` and returns that folder.
    /// The first call (or any with `force`, or after an input changed) runs the shard's first round:
    /// its slice of the corpus through the model, and the first atlas pass of every hook over it.
    /// A call once every shard has finished its first round runs its second: the second atlas pass
    /// with the maxima of all shards, which leaves `loupe merge` only combining. Further calls do
    /// nothing. No site is written.
    @discardableResult
    public static func buildShard(
        spec: ReportSpec, shard: Shard, force: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        progress: @escaping BuildProgress = { _ in }
    ) throws -> URL {
        let fingerprint = try InputFingerprint.of(spec)
        let folder = ShardSet.directory(of: spec).appendingPathComponent(shard.folderName)
        let context = BuildContext(spec: spec, environment: environment, progress: progress)
        if !force, let record = ShardRecord.read(in: folder), record.fingerprint == fingerprint {
            if record.secondPass {
                progress(.note(.cache, "shard \(shard) is complete in \(folder.path)"))
                return folder
            }
            guard let shards = try? ShardSet.load(spec: spec, fingerprint: fingerprint), shards.shards.count == shard.count else {
                progress(.note(.cache, "shard \(shard) has its first round in \(folder.path); once every shard has, run it again for the second round (or let loupe merge make it)"))
                return folder
            }
            let inputs = try context.timed(.inputs) { try ReportInputs.load(spec: spec) }
            try ShardBuild(context: context, inputs: inputs).runSecondPass(shards: shards, folder: folder, record: record)
            return folder
        }
        let inputs = try context.timed(.inputs) { try ReportInputs.load(spec: spec) }
        try ShardBuild(context: context, inputs: inputs).run(shard: shard, folder: folder, fingerprint: fingerprint)
        return folder
    }

    /// Writes the site of `findings` to `directory` (a temporary folder swapped into place, so a
    /// failure leaves the previous site as it was), with the Markdown summary under `title`
    /// (the report's name when `nil`).
    public static func render(
        findings: ReportFindings, title: String? = nil, to directory: URL, resources: SiteResources = .standard()
    ) throws {
        let summary = ReportSummary.markdown(title: title ?? findings.name, findings: findings)
        do {
            try SiteWriter(resources: resources).write(findings: findings, summaryMarkdown: summary, title: title, to: directory)
        } catch let error as SiteError {
            throw BuildError(step: .render, path: error.path, reason: "\(error.reason) (site step \(error.step.rawValue))")
        } catch {
            throw BuildError(step: .render, path: directory.path, reason: "\(error)")
        }
    }
}
