import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel

/// One site an inversion decoder covers: a hook (and head) of the probed model, the width `w` of the
/// activation it reads there, and the factor activations are multiplied by before conditioning (so
/// that sites of very different norms arrive at similar scales).
public struct DecoderSite: Sendable, Equatable {
    public var hook: String
    public var head: Int?
    public var width: Int
    public var scale: Float

    public init(hook: String, head: Int?, width: Int, scale: Float) {
        self.hook = hook
        self.head = head
        self.width = width
        self.scale = scale
    }

    /// `hook` or `hook head H`, for messages.
    public var label: String { head.map { "\(hook) head \($0)" } ?? hook }
}

/// The shape of an inversion decoder (`config.json`): the GPT-2 body's Hugging Face keys at the top
/// level and the conditioning network's under `inversion_decoder`.
///
/// Sizes: S sites, A = activation width (the widest site's), E = site-embedding width, N residual
/// conditioning blocks of width C = the body's width, L body layers.
public struct DecoderConfig: Sendable, Equatable {
    /// The decoder's GPT-2 body (vocabulary and token ids of the probed model's tokenizer; context of the
    /// probed model's plus 2: the prefix slot and the end-of-text target).
    public var body: GPT2Config
    public var sites: [DecoderSite]
    public var siteEmbeddingWidth: Int
    public var conditioningBlocks: Int
    /// Whether the probed model's inputs start with a BOS token (`bosTokenID`), as in training.
    public var prependBOS: Bool
    /// The id the body uses for its prefix slot, input start and end of text.
    public var bosTokenID: Int
    /// `ModelFingerprint` of the probed model's files.
    public var probedModelFingerprint: String
    /// How training went, once the decoder is trained.
    public var fit: DecoderFit?

    public init(
        body: GPT2Config, sites: [DecoderSite], siteEmbeddingWidth: Int, conditioningBlocks: Int, prependBOS: Bool, bosTokenID: Int,
        probedModelFingerprint: String
    ) {
        self.body = body
        self.sites = sites
        self.siteEmbeddingWidth = siteEmbeddingWidth
        self.conditioningBlocks = conditioningBlocks
        self.prependBOS = prependBOS
        self.bosTokenID = bosTokenID
        self.probedModelFingerprint = probedModelFingerprint
    }

    /// A: the widest site's activation (narrower ones are padded with zeros).
    public var activationWidth: Int { sites.map(\.width).max() ?? 0 }

    /// The index of the site `hook`/`head`.
    public func siteIndex(hook: String, head: Int?) throws -> Int {
        guard let index = sites.firstIndex(where: { $0.hook == hook && $0.head == head }) else {
            throw DecoderError.unknownSite(hook: hook, head: head, covered: sites.map(\.label))
        }
        return index
    }

    static let formatVersion = 1

    /// The JSON object of `config.json`.
    var json: [String: Any] {
        var object = body.huggingFaceJSON
        object["bos_token_id"] = bosTokenID
        object["eos_token_id"] = bosTokenID
        object["inversion_decoder"] = [
            "format_version": Self.formatVersion,
            "probed_model_fingerprint": probedModelFingerprint,
            "sites": sites.map { site -> [String: Any] in
                ["hook": site.hook, "head": site.head.map { $0 as Any } ?? NSNull(), "width": site.width, "scale": Double(site.scale)]
            },
            "activation_width": activationWidth,
            "site_embedding_width": siteEmbeddingWidth,
            "conditioning_blocks": conditioningBlocks,
            "prepend_bos": prependBOS,
            "bos_token_id": bosTokenID,
        ] as [String: Any]
        if let fit {
            var decoder = object["inversion_decoder"] as! [String: Any]
            decoder["training"] = [
                "steps": fit.steps, "examples": fit.examples, "held_out_loss": fit.heldOutLoss, "site_losses": fit.siteLosses,
            ] as [String: Any]
            object["inversion_decoder"] = decoder
        }
        return object
    }

    /// Reads `config.json` of a decoder directory, naming the key on any error.
    static func load(url: URL) throws -> DecoderConfig {
        let body: GPT2Config
        do {
            body = try GPT2Config.load(url: url)
        } catch let error as ModelError {
            throw DecoderError.reading(url.path, error)
        }
        let file = try JSONObjectReader.read(url) { key, reason in DecoderError.invalidDecoder(path: url.path, key: key, reason: reason) }
        guard let reader = try file.object("inversion_decoder") else {
            throw DecoderError.invalidDecoder(path: url.path, key: "inversion_decoder", reason: "missing: this is not an inversion decoder's config")
        }
        let version = try reader.required("format_version", reader.integer)
        guard version == formatVersion else {
            throw reader.error("format_version", "version \(version) is not supported (this Loupe reads \(formatVersion))")
        }
        let sites = try reader.required("sites", reader.objects).map { site -> DecoderSite in
            let width = try site.required("width", site.integer)
            let scale = try site.required("scale", site.number)
            guard width > 0 else { throw site.error("width", "must be positive") }
            guard scale > 0 && scale.isFinite else { throw site.error("scale", "must be a positive number") }
            return DecoderSite(hook: try site.required("hook", site.string), head: try site.integer("head"), width: width, scale: Float(scale))
        }
        guard !sites.isEmpty else { throw reader.error("sites", "the decoder covers no site") }
        var config = DecoderConfig(
            body: body, sites: sites, siteEmbeddingWidth: try reader.required("site_embedding_width", reader.integer),
            conditioningBlocks: try reader.required("conditioning_blocks", reader.integer),
            prependBOS: try reader.required("prepend_bos", reader.boolean), bosTokenID: try reader.required("bos_token_id", reader.integer),
            probedModelFingerprint: try reader.required("probed_model_fingerprint", reader.string))
        if let training = try reader.object("training") {
            let losses = try training.required("site_losses", training.array).map { value -> Double in
                guard let number = JSONObjectReader.numberValue(value) else { throw training.error("site_losses", "must be numbers") }
                return number
            }
            guard losses.count == sites.count else { throw training.error("site_losses", "\(losses.count) losses for \(sites.count) sites") }
            config.fit = DecoderFit(
                steps: try training.required("steps", training.integer), examples: try training.required("examples", training.integer),
                heldOutLoss: try training.required("held_out_loss", training.number), siteLosses: losses)
        }
        guard try reader.required("activation_width", reader.integer) == config.activationWidth else {
            throw reader.error("activation_width", "must be the widest site's width, \(config.activationWidth)")
        }
        guard config.siteEmbeddingWidth > 0 else { throw reader.error("site_embedding_width", "must be positive") }
        guard config.conditioningBlocks >= 0 else { throw reader.error("conditioning_blocks", "must not be negative") }
        guard config.bosTokenID >= 0 && config.bosTokenID < body.vocabularySize else {
            throw reader.error("bos_token_id", "\(config.bosTokenID) is outside the vocabulary of \(body.vocabularySize)")
        }
        return config
    }
}

/// How a decoder's training went: steps, pairs seen, and mean cross-entropy per predicted token on
/// held-out pairs, over all sites and per site (in the order of `DecoderConfig.sites`).
public struct DecoderFit: Sendable, Equatable {
    public var steps, examples: Int
    public var heldOutLoss: Double
    public var siteLosses: [Double]

    public init(steps: Int, examples: Int, heldOutLoss: Double, siteLosses: [Double]) {
        (self.steps, self.examples, self.heldOutLoss, self.siteLosses) = (steps, examples, heldOutLoss, siteLosses)
    }
}
