import Foundation
import LoupeCore

/// What a forward pass should capture and change.
public struct ForwardRequest: Sendable {
    /// Hook names whose activations to keep (see `HookPoint` for shapes).
    public var cache: Set<String>
    /// Changes to make at hook points, applied in order.
    public var interventions: [Intervention]
    /// Whether to compute logits. Without them the pass stops after the deepest cached hook.
    public var computeLogits: Bool
    /// Where to start: block `layer` with `residual` (`[B, T, C]`) as its `hook_resid_pre`, the
    /// earlier blocks and embeddings skipped (their hooks can be neither cached nor changed); `nil`
    /// starts at the embeddings. A pass resumed from a cached `hook_resid_pre` gives the values a
    /// whole pass would.
    public var start: (layer: Int, residual: Tensor)?
    /// Whether to keep what a backward pass needs (`ForwardResult.tape`); needs the pass to reach the
    /// final layer norm (logits, or `ln_final.hook_normalized` cached) and takes interventions only at
    /// `hook_embed` and `hook_pos_embed` (gradients then treat the changed embeddings as the input).
    public var recordTape: Bool
    /// A prefix slot (`[L, B, C]`): before block `l`, row 0 of every sequence's residual stream is
    /// replaced by `prefix[l, b]`, so every later position attends to a key and value made from it
    /// (how an inversion decoder is conditioned). Gradients of a recorded pass reach it
    /// (`Gradients.prefix`); the replaced row's own earlier values get none.
    public var prefix: Tensor?
    /// The real positions of each sequence `[B]` when shorter ones are padded at the end to the
    /// batch's length: attention then computes each sequence's real rows exactly as for that sequence
    /// alone, so a window's activations do not depend on what it is batched with. Padding positions
    /// hold meaningless values (they attend only to position 0). `nil`: every position is real.
    public var lengths: [Int]?

    public init(
        cache: Set<String> = [], interventions: [Intervention] = [], computeLogits: Bool = true, recordTape: Bool = false,
        start: (layer: Int, residual: Tensor)? = nil, prefix: Tensor? = nil, lengths: [Int]? = nil
    ) {
        self.cache = cache
        self.interventions = interventions
        self.computeLogits = computeLogits
        self.recordTape = recordTape
        self.start = start
        self.prefix = prefix
        self.lengths = lengths
    }
}

/// The result of a forward pass.
public struct ForwardResult: Sendable {
    /// `[B, T, V]` next-token logits, or `nil` when the request skipped them.
    public var logits: Tensor?
    /// The requested activations.
    public var cache: ActivationCache
    /// The intermediates of the pass, when the request recorded them (input of `backward`).
    public var tape: ForwardTape?
}

/// A GPT-2-architecture transformer (pre-LN blocks, learned positions, tied unembedding) whose
/// forward pass exposes every TransformerLens hook point for capture and intervention.
public struct GPT2Model: Sendable {
    /// Shape and numerics.
    public let config: GPT2Config
    /// Parameters.
    public var weights: GPT2Weights

    public init(config: GPT2Config, weights: GPT2Weights) {
        self.config = config
        self.weights = weights
    }

    /// Loads `config.json` and `model.safetensors` from a Hugging Face model directory.
    public static func load(directory: URL) throws -> GPT2Model {
        let config = try GPT2Config.load(url: directory.appendingPathComponent(ModelFiles.config))
        let weights = try GPT2Weights.load(url: directory.appendingPathComponent(ModelFiles.weights), config: config)
        return GPT2Model(config: config, weights: weights)
    }

    /// Every hook name of this model, in forward order.
    public var hookNames: [String] { HookPoint.all(layers: config.layers).map(\.description) }

    /// Runs `tokens` (`B` sequences of equal length `T`) through the model.
    public func forward(_ tokens: [[Int]], _ request: ForwardRequest = ForwardRequest()) throws -> ForwardResult {
        var pass = try ForwardPass(model: self, tokens: tokens, request: request)
        return try pass.run()
    }
}

/// The state of one forward pass: which hooks to capture or change, and what was captured.
private struct ForwardPass {
    let model: GPT2Model
    let tokens: [[Int]]
    let request: ForwardRequest
    let interventions: [String: [(HookPoint, Intervention)]]
    /// Hooks that must be materialised (captured or intervened on).
    let touched: Set<String>
    /// Last block whose activations are needed when logits are skipped.
    let lastLayer: Int
    var cache = ActivationCache()
    var tape: ForwardTape?

    init(model: GPT2Model, tokens: [[Int]], request: ForwardRequest) throws {
        let config = model.config
        guard let length = tokens.first?.count, length > 0 else {
            throw ModelError.invalidInput(reason: "the batch holds no tokens")
        }
        guard tokens.allSatisfy({ $0.count == length }) else {
            throw ModelError.invalidInput(reason: "sequences in a batch must have equal length")
        }
        if request.recordTape {
            guard request.computeLogits || request.cache.contains("ln_final.hook_normalized") else {
                throw ModelError.invalidInput(reason: "a recorded forward pass needs logits or ln_final.hook_normalized")
            }
            guard request.interventions.allSatisfy({ $0.hook == "hook_embed" || $0.hook == "hook_pos_embed" }) else {
                throw ModelError.invalidInput(reason: "a recorded forward pass takes interventions only at hook_embed and hook_pos_embed")
            }
            guard request.lengths == nil else { throw ModelError.invalidInput(reason: "a recorded forward pass has no padding lengths") }
        }
        if let lengths = request.lengths, lengths.count != tokens.count || !lengths.allSatisfy({ $0 >= 1 && $0 <= length }) {
            throw ModelError.invalidInput(reason: "lengths \(lengths) must give each of the \(tokens.count) sequences 1...\(length) positions")
        }
        guard length <= config.contextLength else {
            throw ModelError.sequenceTooLong(length: length, maximum: config.contextLength)
        }
        for sequence in tokens {
            if let bad = sequence.first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
                throw ModelError.tokenOutOfRange(id: bad, vocabularySize: config.vocabularySize)
            }
        }
        if let prefix = request.prefix {
            let expected = [config.layers, tokens.count, config.width]
            guard prefix.shape == expected else {
                throw ModelError.invalidInput(reason: "the prefix has shape \(prefix.shape), expected \(expected)")
            }
        }
        if let start = request.start {
            guard !request.recordTape else { throw ModelError.invalidInput(reason: "a recorded forward pass starts at the embeddings") }
            guard start.layer >= 0 && start.layer < config.layers else {
                throw ModelError.invalidInput(reason: "start layer \(start.layer) outside 0..<\(config.layers)")
            }
            let expected = [tokens.count, length, config.width]
            guard start.residual.shape == expected else {
                throw ModelError.invalidInput(reason: "the start residual has shape \(start.residual.shape), expected \(expected)")
            }
            for name in request.cache.union(request.interventions.map(\.hook)) {
                let point = try Self.point(name, layers: config.layers)
                if point.layer == nil ? name != "ln_final.hook_normalized" : point.layer! < start.layer {
                    throw ModelError.invalidInput(reason: "hook \(name) comes before the start layer \(start.layer)")
                }
            }
        }
        var deepest = request.computeLogits ? config.layers - 1 : -1
        var byHook: [String: [(HookPoint, Intervention)]] = [:]
        for name in request.cache {
            let point = try Self.point(name, layers: config.layers)
            deepest = max(deepest, point.lastBlock(layers: config.layers))
        }
        for intervention in request.interventions {
            let point = try Self.point(intervention.hook, layers: config.layers)
            byHook[intervention.hook, default: []].append((point, intervention))
        }
        self.model = model
        self.tokens = tokens
        self.request = request
        self.interventions = byHook
        self.touched = request.cache.union(byHook.keys)
        self.lastLayer = deepest
    }

    private static func point(_ name: String, layers: Int) throws -> HookPoint {
        guard let point = HookPoint(name), (point.layer ?? 0) < layers else { throw ModelError.unknownHook(name: name) }
        return point
    }

    /// Thrown by `hook` when the pass has everything it was asked for (no logits, every cached
    /// hook captured), so no later layer runs.
    private struct Complete: Error {}

    /// Captures and changes the activation at `name` as requested, and returns it.
    private mutating func hook(_ name: String, _ value: Tensor) throws -> Tensor {
        guard touched.contains(name) else { return value }
        var value = value
        for (point, intervention) in interventions[name] ?? [] {
            try intervention.apply(to: &value, at: point)
        }
        if request.cache.contains(name) {
            cache[name] = value
            if !request.computeLogits && !request.recordTape && cache.tensors.count == request.cache.count { throw Complete() }
        }
        return value
    }

    mutating func run() throws -> ForwardResult {
        do {
            return try runLayers()
        } catch is Complete {
            return ForwardResult(logits: nil, cache: cache, tape: nil)
        }
    }

    /// `hook_embed + hook_pos_embed` `[B, T, C]`, each hooked.
    private mutating func embeddings() throws -> Tensor {
        let weights = model.weights
        let (b, t, c) = (tokens.count, tokens[0].count, model.config.width)
        var embed = weights.tokenEmbedding.gatherRows(tokens.flatMap { $0 })
        try embed.reshape([b, t, c])
        embed = try hook("hook_embed", embed)
        let positions = weights.positionEmbedding.gatherRows(Array(0..<t))
        var positional = Tensor(shape: [b, t, c])
        for item in 0..<b {
            positional.scalars.replaceSubrange((item * t * c)..<((item + 1) * t * c), with: positions.scalars)
        }
        positional = try hook("hook_pos_embed", positional)
        return embed + positional
    }

    private mutating func runLayers() throws -> ForwardResult {
        let config = model.config
        let weights = model.weights
        let (b, t) = (tokens.count, tokens[0].count)
        let (c, h, d) = (config.width, config.heads, config.headWidth)

        var residual: Tensor
        if let start = request.start {
            residual = start.residual
        } else {
            residual = try embeddings()
        }
        if request.recordTape { tape = ForwardTape(config: config, tokens: tokens, prefixed: request.prefix != nil) }

        for layer in (request.start?.layer ?? 0)..<min(config.layers, lastLayer + 1) {
            let block = weights.blocks[layer]
            let prefix = "blocks.\(layer)."
            if let slots = request.prefix {
                for item in 0..<b {
                    residual.scalars.replaceSubrange(
                        (item * t * c)..<(item * t * c + c), with: slots.scalars[((layer * b + item) * c)..<((layer * b + item + 1) * c)])
                }
            }
            residual = try hook(prefix + "hook_resid_pre", residual)
            let residualIn = residual
            let ln1Pass = try residual.layerNormWithStatistics(
                weight: block.ln1Weight, bias: block.ln1Bias, epsilon: config.layerNormEpsilon)
            let ln1 = try hook(prefix + "ln1.hook_normalized", ln1Pass.output)
            let qkv = try ln1.matmul(block.attentionWeight, bias: block.attentionBias).splitLastDimension(into: 3)
            let q = try hook(prefix + "attn.hook_q", qkv[0].reshaped([b, t, h, d]))
            let k = try hook(prefix + "attn.hook_k", qkv[1].reshaped([b, t, h, d]))
            let v = try hook(prefix + "attn.hook_v", qkv[2].reshaped([b, t, h, d]))
            var scale: Float = config.scaleAttentionWeights ? 1 / Float(d).squareRoot() : 1
            if config.scaleAttentionByInverseLayerIndex { scale /= Float(layer + 1) }
            let scores = try hook(prefix + "attn.hook_attn_scores", CausalAttention.scores(query: q, key: k, scale: scale, lengths: request.lengths))
            let pattern = try hook(prefix + "attn.hook_pattern", CausalAttention.pattern(scores: scores))
            let z = try hook(prefix + "attn.hook_z", CausalAttention.mix(pattern: pattern, value: v, lengths: request.lengths))
            var attentionOut: Tensor
            if touched.contains(prefix + "attn.hook_result") {
                let results = try hook(prefix + "attn.hook_result",
                                       CausalAttention.headResults(z: z, outputWeight: block.attentionOutputWeight))
                attentionOut = try CausalAttention.sumHeads(results, bias: block.attentionOutputBias)
            } else {
                attentionOut = try z.reshaped([b, t, c]).matmul(block.attentionOutputWeight, bias: block.attentionOutputBias)
            }
            attentionOut = try hook(prefix + "hook_attn_out", attentionOut)
            residual = try hook(prefix + "hook_resid_mid", residual + attentionOut)
            let residualMid = residual
            let ln2Pass = try residual.layerNormWithStatistics(
                weight: block.ln2Weight, bias: block.ln2Bias, epsilon: config.layerNormEpsilon)
            let ln2 = try hook(prefix + "ln2.hook_normalized", ln2Pass.output)
            let pre = try hook(prefix + "mlp.hook_pre", ln2.matmul(block.mlpInputWeight, bias: block.mlpInputBias))
            let post = try hook(prefix + "mlp.hook_post", pre.applying(config.activation))
            let mlpOut = try hook(prefix + "hook_mlp_out", post.matmul(block.mlpOutputWeight, bias: block.mlpOutputBias))
            if tape != nil {
                tape!.layers.append(ForwardTape.Layer(
                    residualIn: residualIn, ln1: ln1, ln1Mean: ln1Pass.mean, ln1Rstd: ln1Pass.rstd,
                    query: q, key: k, value: v, scale: scale, pattern: pattern, z: z,
                    residualMid: residualMid, ln2: ln2, ln2Mean: ln2Pass.mean, ln2Rstd: ln2Pass.rstd,
                    mlpPre: pre, mlpPost: post))
            }
            residual = try hook(prefix + "hook_resid_post", residual + mlpOut)
        }

        guard request.computeLogits || request.cache.contains("ln_final.hook_normalized") else {
            return ForwardResult(logits: nil, cache: cache)
        }
        let finalPass = try residual.layerNormWithStatistics(
            weight: weights.finalNormWeight, bias: weights.finalNormBias, epsilon: config.layerNormEpsilon)
        let normalized = try hook("ln_final.hook_normalized", finalPass.output)
        let logits = request.computeLogits ? try normalized.matmulTransposed(weights.unembedding) : nil
        if tape != nil {
            tape!.residualOut = residual
            tape!.finalNormalized = normalized
            tape!.finalMean = finalPass.mean
            tape!.finalRstd = finalPass.rstd
        }
        return ForwardResult(logits: logits, cache: cache, tape: tape)
    }
}
