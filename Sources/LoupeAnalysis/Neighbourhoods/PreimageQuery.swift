import LoupeCore
import LoupeModel

/// How two activation rows are compared: `l2` is `‖q − z‖₂ / ‖q‖₂` (normalised by the query's norm),
/// `cosine` is `1 − cos(q, z)` (1 when `z` is zero).
public enum PreimageDistance: String, Sendable, CaseIterable {
    case l2
    case cosine
}

/// A hook site whose rows a preimage search compares: a hook with one row per token (`[T, W]` once
/// heads are flattened), and optionally one head's slice of that row.
///
/// Per-head hooks (`attn.hook_q|k|v|z` `[T, H, D]`, `attn.hook_result` `[T, H, C]`) with a head
/// compare columns `[h·W/H, (h+1)·W/H)` of the flattened row; without one, the whole row.
public struct PreimageSite: Sendable, Equatable {
    /// The TransformerLens hook name.
    public let hook: String
    /// The head, or nil for the whole row.
    public let head: Int?
    /// Width `W` of the hook's whole row (what the activation store holds).
    public let rowWidth: Int
    /// The columns of the row compared (`w = columns.count`).
    public let columns: Range<Int>

    /// Hook sites (names inside a block) that have a head axis with one row per token.
    static let headSites: Set<String> = ["attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z", "attn.hook_result"]

    /// Checks `hook` and `head` against `model`.
    public init(hook: String, head: Int?, model: GPT2Model) throws {
        guard let point = HookPoint(hook), (point.layer ?? 0) < model.config.layers else {
            throw PreimageError.invalidSite(
                hook: hook, head: head, reason: "the model has no such hook point (\(model.config.layers) blocks; e.g. blocks.0.hook_resid_post)")
        }
        guard point.hasRowPerToken else {
            throw PreimageError.invalidSite(
                hook: hook, head: head, reason: "attention scores and patterns are [H, T, T], not one row per token; use attn.hook_z or attn.hook_result")
        }
        let width = try model.rowWidth(ofHook: hook)
        var columns = 0..<width
        if let head {
            guard Self.headSites.contains(point.site) else {
                throw PreimageError.invalidSite(
                    hook: hook, head: head, reason: "the hook has no heads (heads exist at attn.hook_q, hook_k, hook_v, hook_z and hook_result)")
            }
            let heads = model.config.heads
            guard head >= 0 && head < heads else {
                throw PreimageError.invalidSite(hook: hook, head: head, reason: "the model has \(heads) heads (0…\(heads - 1))")
            }
            let slice = width / heads
            columns = head * slice..<(head + 1) * slice
        }
        self.hook = hook
        self.head = head
        self.rowWidth = width
        self.columns = columns
    }
}

/// The activation a preimage search looks around: row `position` of `tokens` at a site.
public struct PreimageQuery: Sendable {
    /// The site compared.
    public let site: PreimageSite
    /// The query's token ids (a BOS first if the caller prepended one).
    public let tokens: [Int]
    /// The resolved, non-negative query position.
    public let position: Int
    /// The query row `q` (`[w]`).
    public let activation: [Float]

    /// Runs `tokens` through `model` and keeps the site's row at `position` (negative counts from
    /// the end). The query must fit one window of `contextLength` tokens.
    public init(model: GPT2Model, site: PreimageSite, tokens: [Int], position: Int, contextLength: Int) throws {
        guard !tokens.isEmpty else { throw PreimageError.invalidQuery(reason: "the text has no token") }
        guard tokens.count <= contextLength else {
            throw PreimageError.invalidQuery(reason: "\(tokens.count) tokens are more than the context of \(contextLength) (corpus windows hold at most that many)")
        }
        let resolved = position < 0 ? tokens.count + position : position
        guard resolved >= 0 && resolved < tokens.count else {
            throw PreimageError.positionOutOfRange(position: position, tokens: tokens.count)
        }
        let result = try model.forward([tokens], ForwardRequest(cache: [site.hook], computeLogits: false))
        guard let value = result.cache[site.hook] else {
            throw PreimageError.invalidSite(hook: site.hook, head: site.head, reason: "the forward pass did not capture it")
        }
        let row = resolved * site.rowWidth
        let activation = Array(value.scalars[(row + site.columns.lowerBound)..<(row + site.columns.upperBound)])
        guard activation.contains(where: { $0 != 0 }) else { throw PreimageError.zeroQuery(hook: site.hook, position: resolved) }
        self.site = site
        self.tokens = tokens
        self.position = resolved
        self.activation = activation
    }
}
