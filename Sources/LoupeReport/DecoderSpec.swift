import Foundation
import LoupeAnalysis
import LoupeModel
import LoupeToyWorld

/// How to train an inversion decoder (`loupe train-decoder SPEC.yaml`, or the `train:` block of a
/// report's `neighbourhoods:` section):
///
/// ```yaml
/// model: model                    # the probed model directory (relative to the spec)
/// output: decoder                 # where config.json, model.safetensors, training_log.csv go
/// seed: 1
/// prepend_bos: true               # the probed model's inputs start with <|endoftext|>
/// sites:                          # `*` stands for every layer; `heads: all` for every head
///   - blocks.*.hook_resid_mid
///   - {hook: blocks.*.attn.hook_z, heads: all}
///   - {hook: blocks.1.attn.hook_z, head: 2}
/// decoder: {layers: 2, width: 128, heads: 4, mlp_width: 512, site_embedding: 32, conditioning_blocks: 2}
/// data: {source: toy_world, sentences: 2, task_share: 0.5, readout_share: 0, tasks: [counting, ioi]}
///                                                               # tasks: default all
///                                                               # or {source: corpus, file: corpus.txt}
/// training: {steps: 1000, batch_size: 64, learning_rate: 0.001, warmup_steps: 100,
///            final_lr_fraction: 0.1, weight_decay: 0.01, gradient_clip: 1.0}
/// evaluation: {held_out_per_site: 64}
/// ```
public struct DecoderTrainingSpec: Equatable, Sendable {
    /// One entry of `sites`: a hook name (with `*` for every layer) and a head, every head, or none.
    public struct SitePattern: Equatable, Sendable {
        public enum Heads: Equatable, Sendable {
            case none
            case one(Int)
            case all
        }

        public var hook: String
        public var heads: Heads
    }

    /// The data the probed model runs on.
    public enum Data: Equatable, Sendable {
        case toyWorld(sentences: Int, taskShare: Double, readoutShare: Double, tasks: [String])
        case corpus(URL)
    }

    /// The spec file (for messages).
    public var path: String
    public var model: URL
    public var output: URL
    public var seed: UInt64
    public var prependBOS: Bool
    public var sites: [SitePattern]
    public var data: Data
    public var settings: DecoderTrainingSettings

    /// Reads the YAML file at `url`.
    public static func load(url: URL) throws -> DecoderTrainingSpec {
        try read(try SpecReader.load(url: url), base: url.deletingLastPathComponent(), defaultModel: nil)
    }

    /// Reads a spec mapping; paths are relative to `base`. Inside a report, `model` defaults to the report's.
    static func read(_ spec: SpecReader, base: URL, defaultModel: URL?) throws -> DecoderTrainingSpec {
        try spec.rejectUnknownKeys(["model", "output", "seed", "prepend_bos", "sites", "decoder", "data", "training", "evaluation"])
        func path(_ key: String, default fallback: URL? = nil) throws -> URL {
            if spec.mapping[key] == nil, let fallback { return fallback }
            return URL(fileURLWithPath: try spec.string(key), relativeTo: base).standardizedFileURL
        }
        let model = try path("model", default: defaultModel)
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent(ModelFiles.config).path) else {
            throw spec.invalid("model", "\(model.path) holds no \(ModelFiles.config)")
        }
        guard let list = spec.mapping["sites"] as? [Any], !list.isEmpty else {
            throw spec.invalid("sites", "must be a non-empty list of hook names or {hook, head | heads: all} mappings")
        }
        let sites = try list.enumerated().map { index, item -> SitePattern in
            if let hook = item as? String { return SitePattern(hook: hook, heads: .none) }
            guard let mapping = item as? [String: Any] else { throw spec.invalid("sites", "entry \(index + 1) is neither a hook name nor a mapping") }
            let entry = SpecReader(path: spec.path, prefix: spec.prefix + "sites[\(index)].", mapping: mapping)
            try entry.rejectUnknownKeys(["hook", "head", "heads"])
            let hook = try entry.string("hook")
            if mapping["head"] != nil {
                guard mapping["heads"] == nil else { throw entry.invalid("heads", "give either head or heads") }
                return SitePattern(hook: hook, heads: .one(try entry.integer("head", range: 0...Int.max)))
            }
            if mapping["heads"] != nil {
                _ = try entry.string("heads", allowed: ["all"])
                return SitePattern(hook: hook, heads: .all)
            }
            return SitePattern(hook: hook, heads: .none)
        }

        let decoder = try spec.section("decoder")
        try decoder.rejectUnknownKeys(["layers", "width", "heads", "mlp_width", "site_embedding", "conditioning_blocks"])
        var settings = DecoderTrainingSettings()
        settings.layers = try decoder.integer("layers", default: settings.layers, range: 1...64)
        settings.width = try decoder.integer("width", default: settings.width, range: 1...8192)
        settings.heads = try decoder.integer("heads", default: settings.heads, range: 1...256)
        guard settings.width % settings.heads == 0 else {
            throw decoder.invalid("heads", "width \(settings.width) is not divisible by \(settings.heads) heads")
        }
        settings.mlpWidth = try decoder.integer("mlp_width", default: 4 * settings.width, range: 1...65536)
        settings.siteEmbeddingWidth = try decoder.integer("site_embedding", default: settings.siteEmbeddingWidth, range: 1...4096)
        settings.conditioningBlocks = try decoder.integer("conditioning_blocks", default: settings.conditioningBlocks, range: 0...64)

        let dataSection = try spec.section("data")
        try dataSection.rejectUnknownKeys(["source", "sentences", "task_share", "readout_share", "tasks", "file"])
        let data: Data
        switch try dataSection.string("source", default: "toy_world", allowed: ["toy_world", "corpus"]) {
        case "toy_world":
            var tasks: [String] = []
            if let given = dataSection.mapping["tasks"] {
                let names = ToyWorld().tasks.map(\.name)
                guard let list = given as? [String], !list.isEmpty, list.allSatisfy(names.contains) else {
                    throw dataSection.invalid("tasks", "must be a non-empty list of toy task names (\(names.joined(separator: ", ")))")
                }
                tasks = list
            }
            data = .toyWorld(
                sentences: try dataSection.integer("sentences", default: 2, range: 1...64),
                taskShare: try dataSection.number("task_share", default: 0.5, range: 0...1),
                readoutShare: try dataSection.number("readout_share", default: 0, range: 0...1), tasks: tasks)
        default:
            let url = URL(fileURLWithPath: try dataSection.string("file"), relativeTo: base).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else { throw dataSection.invalid("file", "\(url.path) does not exist") }
            data = .corpus(url)
        }

        let training = try spec.section("training")
        try training.rejectUnknownKeys([
            "steps", "batch_size", "learning_rate", "warmup_steps", "final_lr_fraction", "weight_decay", "beta1", "beta2", "gradient_clip",
        ])
        settings.steps = try training.integer("steps", range: 1...10_000_000)
        settings.batchSize = try training.integer("batch_size", default: settings.batchSize, range: 1...65536)
        settings.optimizer.learningRate = Float(try training.number("learning_rate", default: 1e-3, range: 1e-8...1))
        settings.optimizer.warmupSteps = try training.integer("warmup_steps", default: min(100, settings.steps - 1), range: 0...Int.max)
        guard settings.optimizer.warmupSteps < settings.steps else {
            throw training.invalid("warmup_steps", "\(settings.optimizer.warmupSteps) is not below steps (\(settings.steps))")
        }
        settings.optimizer.finalFraction = Float(try training.number("final_lr_fraction", default: 0.1, range: 0...1))
        settings.optimizer.weightDecay = Float(try training.number("weight_decay", default: 0.01, range: 0...10))
        settings.optimizer.beta1 = Float(try training.number("beta1", default: 0.9, range: 0...0.999999))
        settings.optimizer.beta2 = Float(try training.number("beta2", default: 0.999, range: 0...0.999999))
        settings.optimizer.gradientClip = Float(try training.number("gradient_clip", default: 1, range: 0...1e6))
        let evaluation = try spec.section("evaluation")
        try evaluation.rejectUnknownKeys(["held_out_per_site"])
        settings.heldOutPerSite = try evaluation.integer("held_out_per_site", default: settings.heldOutPerSite, range: 1...100_000)
        let seed = UInt64(try spec.integer("seed", default: 1, range: 0...Int.max))
        settings.seed = seed
        return DecoderTrainingSpec(
            path: spec.path, model: model, output: try path("output"), seed: seed, prependBOS: try spec.boolean("prepend_bos", default: true), sites: sites,
            data: data, settings: settings)
    }

    /// The sites the patterns name on `model`, in order, each checked (a `*` runs over every layer,
    /// `heads: all` over every head); duplicates are kept once.
    public func resolveSites(model: GPT2Model) throws -> [PreimageSite] {
        var sites: [PreimageSite] = []
        for pattern in self.sites {
            let hooks = pattern.hook.contains("*")
                ? (0..<model.config.layers).map { pattern.hook.replacingOccurrences(of: "*", with: String($0)) } : [pattern.hook]
            for hook in hooks {
                let heads: [Int?]
                switch pattern.heads {
                case .none: heads = [nil]
                case let .one(head): heads = [head]
                case .all: heads = (0..<model.config.heads).map { $0 }
                }
                for head in heads {
                    let site: PreimageSite
                    do {
                        site = try PreimageSite(hook: hook, head: head, model: model)
                    } catch let error as PreimageError {
                        throw BuildError(step: .spec, path: path, reason: "key '\(pattern.hook)' of sites: \(error.description)")
                    }
                    if !sites.contains(site) { sites.append(site) }
                }
            }
        }
        return sites
    }
}
