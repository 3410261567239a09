import Foundation
import LoupeAnalysis
import LoupeToyWorld

/// The `neighbourhoods:` section of `report.yaml`: which activations to read with InversionView.
///
/// ```yaml
/// neighbourhoods:
///   decoder: decoder          # a decoder directory (from `loupe train-decoder`), or
///   # train: {...}            #   a decoder training spec (as for train-decoder; `model` defaults to the
///                             #   report's), trained when its output holds no decoder yet
///   epsilon: 0.1
///   distance: l2              # l2 | cosine
///   samples: 64               # decoded samples per query
///   retrieved: 20             # nearest corpus positions per query
///   sites:
///     - hook: blocks.3.hook_resid_post
///       queries:
///         - {text: "c b e b b | b :", position: -1}                  # a text (BOS first as in the corpus)
///         - {task: counting, examples: 2, positions: [-1]}           # toy-task prompts at positions
///         - {features: [3, 17], top: 1, hook: blocks.2.hook_resid_post}   # atlas features' top examples
///     - {hook: blocks.1.attn.hook_z, head: 2, queries: [{task: ioi, examples: 2, positions: [-1]}]}
/// ```
public struct NeighbourhoodSpec: Equatable, Sendable {
    /// How a site's queries are chosen.
    public enum QuerySource: Equatable, Sendable {
        /// A text, tokenised whole, and a position in it (negative from the end).
        case text(String, position: Int)
        /// The clean prompts of `examples` pairs of a toy task (seeded by the report's seed), each at `positions`.
        case task(String, examples: Int, positions: [Int])
        /// The `top` strongest examples of each feature of the atlas dictionary at `hook`, at the example's position.
        case features([Int], top: Int, hook: String)
    }

    /// One site and its queries.
    public struct Site: Equatable, Sendable {
        public var hook: String
        public var head: Int?
        public var queries: [QuerySource]
    }

    /// Where the decoder comes from.
    public enum DecoderSource: Equatable, Sendable {
        case directory(URL)
        case train(DecoderTrainingSpec)
    }

    public var decoder: DecoderSource
    public var epsilon: Double
    public var distance: PreimageDistance
    public var samples: Int
    public var retrieved: Int
    public var sites: [Site]

    /// The decoder's directory.
    public var decoderDirectory: URL {
        switch decoder {
        case let .directory(url): return url
        case let .train(spec): return spec.output
        }
    }

    /// Reads the section; paths are relative to `base`; `atlasHooks` are the report's hooks.
    static func read(_ section: SpecReader, base: URL, model: URL, atlasHooks: [String]) throws -> NeighbourhoodSpec {
        try section.rejectUnknownKeys(["decoder", "train", "epsilon", "distance", "samples", "retrieved", "sites"])
        let decoder: DecoderSource
        if section.mapping["train"] != nil {
            guard section.mapping["decoder"] == nil else { throw section.invalid("train", "give either decoder or train") }
            decoder = .train(try DecoderTrainingSpec.read(try section.section("train"), base: base, defaultModel: model))
        } else {
            let url = URL(fileURLWithPath: try section.string("decoder"), relativeTo: base).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw section.invalid("decoder", "\(url.path) does not exist (train one with `loupe train-decoder`, or give a train: block)")
            }
            decoder = .directory(url)
        }
        let distance = PreimageDistance(rawValue: try section.string("distance", default: "l2", allowed: PreimageDistance.allCases.map(\.rawValue)))!
        guard let list = section.mapping["sites"] as? [Any], !list.isEmpty else {
            throw section.invalid("sites", "must be a non-empty list of {hook, head, queries}")
        }
        let sites = try list.enumerated().map { index, item -> Site in
            guard let mapping = item as? [String: Any] else { throw section.invalid("sites", "entry \(index + 1) is not a mapping") }
            let entry = SpecReader(path: section.path, prefix: section.prefix + "sites[\(index)].", mapping: mapping)
            try entry.rejectUnknownKeys(["hook", "head", "queries"])
            guard let queries = mapping["queries"] as? [Any], !queries.isEmpty else {
                throw entry.invalid("queries", "must be a non-empty list of {text, position}, {task, examples, positions} or {features, top, hook}")
            }
            return Site(
                hook: try entry.string("hook"), head: mapping["head"] == nil ? nil : try entry.integer("head", range: 0...Int.max),
                queries: try queries.enumerated().map { number, query in
                    guard let fields = query as? [String: Any] else { throw entry.invalid("queries", "entry \(number + 1) is not a mapping") }
                    return try readQuery(SpecReader(path: entry.path, prefix: entry.prefix + "queries[\(number)].", mapping: fields), atlasHooks: atlasHooks)
                })
        }
        return NeighbourhoodSpec(
            decoder: decoder, epsilon: try section.number("epsilon", default: 0.1, range: 0...1e6), distance: distance,
            samples: try section.integer("samples", default: 64, range: 1...10_000),
            retrieved: try section.integer("retrieved", default: 20, range: 1...10_000), sites: sites)
    }

    private static func readQuery(_ query: SpecReader, atlasHooks: [String]) throws -> QuerySource {
        if query.mapping["text"] != nil {
            try query.rejectUnknownKeys(["text", "position"])
            return .text(try query.string("text"), position: try query.integer("position", range: Int.min...Int.max))
        }
        if query.mapping["task"] != nil {
            try query.rejectUnknownKeys(["task", "examples", "positions"])
            let names = ToyWorld().tasks.map(\.name)
            let positions = try integers(query, "positions", default: [-1])
            return .task(try query.string("task", allowed: names), examples: try query.integer("examples", default: 1, range: 1...1000), positions: positions)
        }
        if query.mapping["features"] != nil {
            try query.rejectUnknownKeys(["features", "top", "hook"])
            guard let hook = query.mapping["hook"] == nil ? atlasHooks.first : try query.string("hook", allowed: atlasHooks) else {
                throw query.invalid("hook", "the report atlases no hook")
            }
            let features = try integers(query, "features", default: nil)
            guard features.allSatisfy({ $0 >= 0 }) else { throw query.invalid("features", "feature indices are ≥ 0") }
            return .features(features, top: try query.integer("top", default: 1, range: 1...1000), hook: hook)
        }
        throw query.invalid("text", "missing: a query is {text, position}, {task, examples, positions} or {features, top, hook}")
    }

    /// A non-empty list of whole numbers at `key`.
    private static func integers(_ reader: SpecReader, _ key: String, default fallback: [Int]?) throws -> [Int] {
        guard let value = reader.mapping[key] else {
            if let fallback { return fallback }
            throw reader.invalid(key, "missing")
        }
        guard let list = value as? [Int], !list.isEmpty else { throw reader.invalid(key, "must be a non-empty list of whole numbers") }
        return list
    }
}
