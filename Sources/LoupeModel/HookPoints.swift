/// The TransformerLens hook points of a GPT-2 model and the layout of the activation at each.
///
/// Shapes (B batch, T tokens, H heads, D head width, C width, M MLP width):
/// - `hook_embed`, `hook_pos_embed`, `blocks.L.hook_resid_pre|resid_mid|resid_post`,
///   `blocks.L.ln1.hook_normalized`, `blocks.L.ln2.hook_normalized`, `blocks.L.hook_attn_out`,
///   `blocks.L.hook_mlp_out`, `ln_final.hook_normalized`: `[B, T, C]`
/// - `blocks.L.attn.hook_q|k|v|z`: `[B, T, H, D]`
/// - `blocks.L.attn.hook_attn_scores|hook_pattern`: `[B, H, T, T]` (query, key); scores are
///   scaled and hold `-∞` above the diagonal
/// - `blocks.L.attn.hook_result`: `[B, T, H, C]`, each head's contribution to `hook_attn_out`
///   (its sum over heads plus the output bias)
/// - `blocks.L.mlp.hook_pre|hook_post`: `[B, T, M]`
///
/// Layer norms are not folded into neighbouring weights: values equal TransformerLens's
/// `HookedTransformer.from_pretrained_no_processing`.
public struct HookPoint: Hashable, Sendable, CustomStringConvertible {
    /// The block a hook belongs to, or `nil` for embeddings and the final layer norm.
    public let layer: Int?
    /// The hook's name inside its block (e.g. `attn.hook_z`), or the whole name outside blocks.
    public let site: String

    /// Hook names inside every block, in the order the forward pass reaches them.
    public static let blockSites = [
        "hook_resid_pre", "ln1.hook_normalized",
        "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores", "attn.hook_pattern",
        "attn.hook_z", "attn.hook_result", "hook_attn_out", "hook_resid_mid", "ln2.hook_normalized",
        "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out", "hook_resid_post",
    ]

    /// The last block a forward pass must run to reach this hook in a model of `layers` blocks
    /// (embeddings: block 0; the final layer norm: the last block).
    public func lastBlock(layers: Int) -> Int {
        layer ?? (site == "ln_final.hook_normalized" ? layers - 1 : 0)
    }

    /// Whether the activation here is the whole residual stream (`hook_resid_pre|mid|post`, or the
    /// final layer norm's output): nothing that depends on the position is added after it, so when it
    /// is zeroed every later position computes the same values.
    public var isWholeResidualStream: Bool {
        ["hook_resid_pre", "hook_resid_mid", "hook_resid_post", "ln_final.hook_normalized"].contains(site)
    }

    /// The full TransformerLens name.
    public var description: String {
        guard let layer else { return site }
        return "blocks.\(layer).\(site)"
    }

    /// Parses a name such as `blocks.3.attn.hook_z`; returns `nil` for names no GPT-2 model has.
    public init?(_ name: String) {
        if name == "hook_embed" || name == "hook_pos_embed" || name == "ln_final.hook_normalized" {
            layer = nil
            site = name
            return
        }
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "blocks", let index = Int(parts[1]), index >= 0,
              String(index) == parts[1], Self.blockSites.contains(String(parts[2]))
        else { return nil }
        layer = index
        site = String(parts[2])
    }

    init(layer: Int?, site: String) {
        self.layer = layer
        self.site = site
    }

    /// Axis of the token (query) dimension in this hook's activation.
    var tokenAxis: Int { site == "attn.hook_attn_scores" || site == "attn.hook_pattern" ? 2 : 1 }

    /// Axis of the head dimension, or `nil` for hooks without one.
    var headAxis: Int? {
        switch site {
        case "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z", "attn.hook_result": return 2
        case "attn.hook_attn_scores", "attn.hook_pattern": return 1
        default: return nil
        }
    }

    /// Every hook point of a model with `layers` blocks, in forward order.
    public static func all(layers: Int) -> [HookPoint] {
        var list = [HookPoint(layer: nil, site: "hook_embed"), HookPoint(layer: nil, site: "hook_pos_embed")]
        for layer in 0..<layers {
            list += blockSites.map { HookPoint(layer: layer, site: $0) }
        }
        return list + [HookPoint(layer: nil, site: "ln_final.hook_normalized")]
    }
}

extension HookPoint {
    /// The activation's shape at this hook for `batch` sequences of `tokens` tokens (the legend above).
    public func shape(config: GPT2Config, batch: Int, tokens: Int) -> [Int] {
        switch site {
        case "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z": return [batch, tokens, config.heads, config.headWidth]
        case "attn.hook_attn_scores", "attn.hook_pattern": return [batch, config.heads, tokens, tokens]
        case "attn.hook_result": return [batch, tokens, config.heads, config.width]
        case "mlp.hook_pre", "mlp.hook_post": return [batch, tokens, config.mlpWidth]
        default: return [batch, tokens, config.width]
        }
    }

    /// Whether the activation holds one row per token (`[B, T, …]`); attention scores and patterns
    /// (`[B, H, T, T]`) do not.
    public var hasRowPerToken: Bool { tokenAxis == 1 }
}

extension GPT2Model {
    /// The width of one token's row at hook `name`: the activation's values per token, head
    /// dimensions flattened (`[B, T, H, D]` gives `H·D`). This is the `d_in` of a dictionary that
    /// reads the hook and the row width of the hook in an activation store.
    ///
    /// Throws `ModelError.unknownHook` for a name this model does not have and
    /// `ModelError.noRowPerToken` for attention scores and patterns.
    public func rowWidth(ofHook name: String) throws -> Int {
        guard let point = HookPoint(name), (point.layer ?? 0) < config.layers else { throw ModelError.unknownHook(name: name) }
        guard point.hasRowPerToken else { throw ModelError.noRowPerToken(hook: name) }
        return point.shape(config: config, batch: 1, tokens: 1).reduce(1, *)
    }
}
