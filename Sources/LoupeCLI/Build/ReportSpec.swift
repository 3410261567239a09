import Foundation

/// A report described by `Reports/<name>/report.yaml`. Paths are relative to the spec's folder.
///
/// ```yaml
/// title: A 4-layer GPT-2 on the toy world
/// model: model
/// corpus:
///   files: [corpus.jsonl]          # .txt: one document per line; .jsonl: {"text": …} per line
///   # or: toy_world: {documents: 2000, seed: 7}
///   context: 64
///   prepend_bos: true
/// hooks:
///   - hook: blocks.2.hook_resid_post
///     dictionary: {train: topk, width: 512, k: 8, steps: 3000, seed: 1, path: dictionaries/resid2}
///   - hook: blocks.1.hook_resid_post
///     dictionary: {saelens: path/to/saelens/dir}
///   - hook: blocks.0.mlp.hook_post
///     neurons: true
/// atlas: {top_examples: 20, intervals: 10, interval_examples: 5, explain: true, min_firing_tokens: 20}
/// seed: 1
/// ```
struct ReportSpec {
    /// Where a hook's features come from.
    enum FeatureSource: Equatable {
        /// An SAELens directory.
        case saelens(URL)
        /// A TopK dictionary Loupe trains (and keeps at `path`; an existing one there is reused).
        case trainTopK(width: Int, k: Int, steps: Int, seed: UInt64, path: URL)
        /// The hook's own units.
        case neurons
    }

    /// One hook point to atlas.
    struct HookEntry: Equatable {
        var hook: String
        var source: FeatureSource
    }

    /// Where documents come from.
    enum CorpusSource: Equatable {
        case files([URL])
        case toyWorld(documents: Int, seed: UInt64)
    }

    var specURL: URL
    var name: String
    var title: String
    var model: URL
    var corpus: CorpusSource
    var contextLength: Int
    var prependBos: Bool
    var hooks: [HookEntry]
    var topExamples: Int
    var intervals: Int
    var intervalExamples: Int
    var explain: Bool
    /// Features firing on fewer corpus tokens are not explained.
    var minimumFiringTokens: Int
    var seed: UInt64

    /// The report folder (the spec's folder).
    var directory: URL { specURL.deletingLastPathComponent() }

    /// Reads and validates a spec; every error names the file and the key.
    static func load(url: URL) throws -> ReportSpec {
        let spec = try SpecReader.load(url: url)
        try spec.rejectUnknownKeys(["title", "model", "corpus", "hooks", "atlas", "seed"])
        let base = url.deletingLastPathComponent()
        func path(_ reader: SpecReader, _ key: String) throws -> URL {
            let relative = try reader.string(key)
            let resolved = URL(fileURLWithPath: relative, relativeTo: base).standardizedFileURL
            guard FileManager.default.fileExists(atPath: resolved.path) else {
                throw reader.invalid(key, "\(resolved.path) does not exist")
            }
            return resolved
        }
        let name = base.standardizedFileURL.lastPathComponent
        let model = try path(spec, "model")

        let corpusSection = try spec.section("corpus")
        try corpusSection.rejectUnknownKeys(["files", "toy_world", "context", "prepend_bos"])
        let corpus: CorpusSource
        if let files = corpusSection.mapping["files"] {
            guard let list = files as? [Any], !list.isEmpty else {
                throw corpusSection.invalid("files", "must be a non-empty list of paths")
            }
            corpus = .files(try list.enumerated().map { index, item in
                guard let relative = item as? String else { throw corpusSection.invalid("files", "entry \(index + 1) is not a path") }
                let resolved = URL(fileURLWithPath: relative, relativeTo: base).standardizedFileURL
                guard FileManager.default.fileExists(atPath: resolved.path) else {
                    throw corpusSection.invalid("files", "\(resolved.path) does not exist")
                }
                return resolved
            })
        } else if corpusSection.mapping["toy_world"] != nil {
            let toy = try corpusSection.section("toy_world")
            try toy.rejectUnknownKeys(["documents", "seed"])
            corpus = .toyWorld(documents: try toy.integer("documents", range: 1...10_000_000),
                               seed: UInt64(try toy.integer("seed", default: 0, range: 0...Int.max)))
        } else {
            throw corpusSection.invalid("files", "missing: give corpus.files or corpus.toy_world")
        }

        guard let hookList = spec.mapping["hooks"] as? [Any], !hookList.isEmpty else {
            throw spec.invalid("hooks", "must be a non-empty list of hook entries")
        }
        let hooks = try hookList.enumerated().map { index, item -> HookEntry in
            guard let mapping = item as? [String: Any] else { throw spec.invalid("hooks", "entry \(index + 1) is not a mapping") }
            let entry = SpecReader(path: spec.path, prefix: "hooks[\(index)].", mapping: mapping)
            try entry.rejectUnknownKeys(["hook", "dictionary", "neurons"])
            let hook = try entry.string("hook")
            if mapping["neurons"] != nil {
                guard mapping["neurons"] as? Bool == true, mapping["dictionary"] == nil else {
                    throw entry.invalid("neurons", "give either neurons: true or a dictionary")
                }
                return HookEntry(hook: hook, source: .neurons)
            }
            let dictionary = try entry.section("dictionary")
            if dictionary.mapping["saelens"] != nil {
                try dictionary.rejectUnknownKeys(["saelens"])
                return HookEntry(hook: hook, source: .saelens(try path(dictionary, "saelens")))
            }
            try dictionary.rejectUnknownKeys(["train", "width", "k", "steps", "seed", "path"])
            _ = try dictionary.string("train", allowed: ["topk"])
            let width = try dictionary.integer("width", range: 1...1_048_576)
            let k = try dictionary.integer("k", range: 1...width)
            let relative = try dictionary.string("path")
            return HookEntry(hook: hook, source: .trainTopK(
                width: width, k: k, steps: try dictionary.integer("steps", range: 1...10_000_000),
                seed: UInt64(try dictionary.integer("seed", default: 0, range: 0...Int.max)),
                path: URL(fileURLWithPath: relative, relativeTo: base).standardizedFileURL))
        }

        let atlas = try spec.section("atlas")
        try atlas.rejectUnknownKeys(["top_examples", "intervals", "interval_examples", "explain", "min_firing_tokens"])
        let explain: Bool
        if let value = atlas.mapping["explain"] {
            guard let flag = value as? Bool else { throw atlas.invalid("explain", "'\(value)' is not true or false") }
            explain = flag
        } else {
            explain = true
        }
        let prependBos: Bool
        if let value = corpusSection.mapping["prepend_bos"] {
            guard let flag = value as? Bool else { throw corpusSection.invalid("prepend_bos", "'\(value)' is not true or false") }
            prependBos = flag
        } else {
            prependBos = true
        }
        return ReportSpec(
            specURL: url.standardizedFileURL, name: name,
            title: try spec.string("title", default: name),
            model: model, corpus: corpus,
            contextLength: try corpusSection.integer("context", default: 64, range: 2...8192),
            prependBos: prependBos, hooks: hooks,
            topExamples: try atlas.integer("top_examples", default: 20, range: 1...1000),
            intervals: try atlas.integer("intervals", default: 10, range: 1...100),
            intervalExamples: try atlas.integer("interval_examples", default: 5, range: 1...100),
            explain: explain,
            minimumFiringTokens: try atlas.integer("min_firing_tokens", default: 20, range: 1...Int.max),
            seed: UInt64(try spec.integer("seed", default: 0, range: 0...Int.max)))
    }
}
