import LoupeCore
import LoupeModel

// The clean half of a dictionary evaluation. Shape legend: B sequences of T tokens, C model width.

/// The windows a dictionary's reconstruction quality is measured on, and the hooks evaluated there.
public struct EvaluationSample: Sendable, Equatable {
    /// How many leading positions of each chosen window count, by the window's index in the corpus
    /// windows (the last window chosen may count only part of its positions).
    public var windows: [Int: Int]
    /// Hooks whose dictionaries are evaluated.
    public var hooks: [String]

    public init(windows: [Int: Int], hooks: [String]) {
        self.windows = windows
        self.hooks = hooks
    }

    /// `tokens` positions of `windows` (or all of them when there are fewer): every k-th window
    /// (k = the corpus's tokens / `tokens`), then the others in order while positions are missing.
    public static func spread(over windows: [CorpusWindow], tokens budget: Int, hooks: [String]) -> EvaluationSample {
        let total = windows.reduce(0) { $0 + $1.count }
        let step = max(1, total / max(1, budget))
        let order = Array(stride(from: 0, to: windows.count, by: step)) + windows.indices.filter { $0 % step != 0 }
        var chosen: [Int: Int] = [:]
        var taken = 0
        for index in order where taken < budget && !windows[index].tokens.isEmpty {
            let count = min(windows[index].count, budget - taken)
            chosen[index] = count
            taken += count
        }
        return EvaluationSample(windows: chosen, hooks: hooks)
    }
}

/// One batch of an evaluation sample run clean through the model to its next-token loss, keeping
/// what the spliced and zero-ablated passes of `DictionaryEvaluation` need: the evaluated hooks'
/// activations and, for each block one of them lies in, the residual stream entering that block
/// (those passes start there instead of at the embeddings).
public struct EvaluationPass: Sendable {
    /// `B` token sequences of one length `T` (shorter windows padded at the end).
    public var tokens: [[Int]]
    /// Real positions of each sequence `[B]` (`ForwardRequest.lengths`).
    public var lengths: [Int]
    /// Leading positions of each sequence that count `[B]` (the rest is padding).
    public var counted: [Int]
    /// The clean model's next-token loss over the counted positions.
    public var clean: NextTokenLoss
    /// Each evaluated hook's activation `[B, T, …]`.
    public var activations: [String: Tensor]
    /// `blocks.L.hook_resid_pre` `[B, T, C]` by block `L`, for each block an evaluated hook lies in.
    public var residuals: [Int: Tensor]

    /// Runs `tokens` (real for `lengths`, of which `counted` count) clean to the loss, keeping `hooks`'
    /// activations (and the residuals entering their blocks); `extra` hooks are cached too and returned
    /// with everything else the pass cached.
    public static func run(
        model: GPT2Model, tokens: [[Int]], lengths: [Int], counted: [Int], hooks: [String], extra: Set<String> = []
    ) throws -> (pass: EvaluationPass, cache: ActivationCache) {
        let layers = Set(hooks.compactMap { HookPoint($0)?.layer })
        let request = ForwardRequest(cache: extra.union(hooks).union(layers.map { "blocks.\($0).hook_resid_pre" }), lengths: lengths)
        let (clean, cache) = try model.nextTokenLoss(tokens, request, counted: counted)
        var activations: [String: Tensor] = [:]
        for hook in hooks { activations[hook] = cache[hook] }
        var residuals: [Int: Tensor] = [:]
        for layer in layers { residuals[layer] = cache["blocks.\(layer).hook_resid_pre"] }
        return (EvaluationPass(tokens: tokens, lengths: lengths, counted: counted, clean: clean, activations: activations, residuals: residuals), cache)
    }

    /// Passes over `batches` (each `B` sequences of one length, every position counted).
    public static func run(model: GPT2Model, batches: [[[Int]]], hooks: [String]) throws -> [EvaluationPass] {
        try batches.filter { !$0.isEmpty }.map { try run(model: model, tokens: $0, lengths: $0.map(\.count), counted: $0.map(\.count), hooks: hooks).pass }
    }

    /// The next-token loss over the counted positions with `intervention` made, starting from the
    /// residual entering the intervened hook's block when this pass kept it.
    public func loss(model: GPT2Model, with intervention: Intervention) throws -> NextTokenLoss {
        let start = HookPoint(intervention.hook)?.layer.flatMap { layer in residuals[layer].map { (layer: layer, residual: $0) } }
        return try model.nextTokenLoss(tokens, ForwardRequest(interventions: [intervention], start: start, lengths: lengths), counted: counted).loss
    }

    /// The next-token loss over the counted positions with `hook` zeroed. Where the hook is the whole
    /// residual stream every position then computes the same logits, so one position is run (from
    /// the hook's block) and its logits scored against every counted target; elsewhere a whole pass.
    public func zeroedLoss(model: GPT2Model, hook: String) throws -> NextTokenLoss {
        guard let point = HookPoint(hook), point.isWholeResidualStream else {
            return try loss(model: model, with: Intervention(hook: hook, action: .zero))
        }
        let layer = point.lastBlock(layers: model.config.layers)
        let result = try model.forward([[tokens[0][0]]], ForwardRequest(
            interventions: [Intervention(hook: hook, action: .zero)], start: (layer, Tensor(shape: [1, 1, model.config.width]))))
        let row = result.logits!
        let logits = row.scalars
        // The row's loss for target 0 is its log-sum-exp minus logit 0.
        let logSumExp = CrossEntropy.lossSum(logits: row, targets: [0]).sum + Double(logits[0])
        var loss = NextTokenLoss(sum: 0, predictions: 0)
        for (sequence, count) in zip(tokens, counted) where count > 1 {
            for target in sequence[1..<count] { loss.sum += logSumExp - Double(logits[target]) }
            loss.predictions += count - 1
        }
        return loss
    }
}
