import Foundation
import LoupeAnalysis

/// The spec of `loupe subspaces`: learn the NDM partition of one hook point on a corpus, and
/// optionally check it causally on tasks.
///
/// ```yaml
/// model: model
/// corpus: {toy_world: {documents: 4000, seed: 7}, context: 64, prepend_bos: true}   # as in report.yaml
/// site: blocks.0.hook_resid_post
/// output: subspaces/resid0        # default: subspaces/<site> beside the spec
/// block_size: 8                   # and every other key of a report's subspace site:
/// threshold: 0.04                 #   steps, merge_every, batch_size, buffer_size,
/// steps: 2000                     #   learning_rate, samples, seed
/// seed: 1
/// tasks: [ioi]                    # optional: toy tasks or task files to patch each subspace on
/// examples: 64                    # pairs per toy task
/// ```
public struct SubspaceTrainingSpec: Equatable, Sendable {
    public var path: String
    public var model: URL
    public var corpus: ReportSpec.CorpusSource
    public var contextLength: Int
    public var prependBOS: Bool
    public var site: String
    public var output: URL
    public var training: SubspaceTrainingSettings
    /// Toy task names or task files (absolute paths).
    public var tasks: [String]
    public var examples: Int

    /// Reads and validates the spec; every error names the file and the key.
    public static func load(url: URL) throws -> SubspaceTrainingSpec {
        let spec = try SpecReader.load(url: url)
        try spec.rejectUnknownKeys(SubspaceTrainingSettings.keys.union(["model", "corpus", "site", "output", "tasks", "examples"]))
        let base = url.deletingLastPathComponent()
        let model = URL(fileURLWithPath: try spec.string("model"), relativeTo: base).standardizedFileURL
        guard FileManager.default.fileExists(atPath: model.path) else { throw spec.invalid("model", "\(model.path) does not exist") }
        let corpusSection = try spec.section("corpus")
        try corpusSection.rejectUnknownKeys(["files", "toy_world", "context", "prepend_bos"])
        let site = try spec.string("site")
        let output = URL(fileURLWithPath: try spec.string("output", default: "subspaces/" + site), relativeTo: base).standardizedFileURL
        return SubspaceTrainingSpec(
            path: url.path, model: model, corpus: try ReportSpec.CorpusSource.read(corpusSection, base: base),
            contextLength: try corpusSection.integer("context", default: 64, range: 2...8192),
            prependBOS: try corpusSection.boolean("prepend_bos", default: true), site: site, output: output,
            training: try SubspaceTrainingSettings.read(spec, seed: 0),
            tasks: spec.mapping["tasks"] == nil ? [] : try SubspaceSpec.tasks(spec, base: base),
            examples: try spec.integer("examples", default: 64, range: 1...100_000))
    }
}
