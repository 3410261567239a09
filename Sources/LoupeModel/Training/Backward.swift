import LoupeCore

/// Gradients from one backward pass: one tensor per parameter (same layout as the weights) and
/// the gradients of the hook activations that were asked for (same shapes as the activations).
public struct Gradients: Sendable {
    /// d(objective)/d(parameter), in the layout of `GPT2Weights`.
    public var parameters: GPT2Weights
    /// d(objective)/d(activation) by hook name.
    public var hooks: [String: Tensor]
}

extension GPT2Weights {
    /// All-zero tensors with the shapes of `config`'s parameters (a gradient accumulator).
    public static func zeros(config: GPT2Config) -> GPT2Weights {
        var tensors: [String: Tensor] = [:]
        for (name, shape) in expectedShapes(config) { tensors[name] = Tensor(shape: shape) }
        return GPT2Weights(config: config, tensors: tensors)
    }
}

extension GPT2Model {
    /// Back-propagates `logitsGradient` (`[B, T, V]`, d(objective)/d(logits)) through the pass
    /// recorded in `tape`, which a model of this configuration must have recorded. Returns every
    /// parameter's gradient and the gradients of `hooks`.
    public func backward(tape: ForwardTape, logitsGradient: Tensor, hooks: Set<String> = []) throws -> Gradients {
        guard tape.config == config else {
            throw ModelError.invalidInput(reason: "the tape was recorded by a model of another configuration")
        }
        let expected = [tape.tokens.count, tape.tokens[0].count, config.vocabularySize]
        guard logitsGradient.shape == expected else {
            throw ModelError.invalidInput(reason: "the logits gradient has shape \(logitsGradient.shape), expected \(expected)")
        }
        for name in hooks {
            guard let point = HookPoint(name), (point.layer ?? 0) < config.layers else { throw ModelError.unknownHook(name: name) }
        }
        var pass = BackwardPass(model: self, tape: tape, hooks: hooks)
        try pass.run(logitsGradient: logitsGradient)
        return Gradients(parameters: pass.gradients, hooks: pass.hookGradients)
    }

    /// Mean next-token cross-entropy of `inputs` against `targets` (both `B` sequences of `T`;
    /// target -1 is ignored) and the gradients of the parameters and of `hooks`.
    public func lossAndGradients(inputs: [[Int]], targets: [[Int]], hooks: Set<String> = []) throws -> (loss: Float, gradients: Gradients) {
        guard targets.count == inputs.count, zip(inputs, targets).allSatisfy({ $0.count == $1.count }) else {
            throw ModelError.invalidInput(reason: "targets must have the shape of the inputs")
        }
        if let bad = targets.joined().first(where: { $0 < -1 || $0 >= config.vocabularySize }) {
            throw ModelError.tokenOutOfRange(id: bad, vocabularySize: config.vocabularySize)
        }
        let result = try forward(inputs, ForwardRequest(recordTape: true))
        let (loss, gradient) = CrossEntropy.lossAndGradient(logits: result.logits!, targets: targets.flatMap { $0 })
        return (loss, try backward(tape: result.tape!, logitsGradient: gradient, hooks: hooks))
    }
}

/// The state of one backward pass.
private struct BackwardPass {
    let model: GPT2Model
    let tape: ForwardTape
    let hooks: Set<String>
    var gradients: GPT2Weights
    var hookGradients: [String: Tensor] = [:]

    init(model: GPT2Model, tape: ForwardTape, hooks: Set<String>) {
        self.model = model
        self.tape = tape
        self.hooks = hooks
        gradients = GPT2Weights.zeros(config: model.config)
    }

    private mutating func record(_ name: String, _ gradient: @autoclosure () throws -> Tensor) rethrows {
        if hooks.contains(name) { hookGradients[name] = try gradient() }
    }

    mutating func run(logitsGradient: Tensor) throws {
        let config = model.config
        let weights = model.weights
        let (b, t) = (tape.tokens.count, tape.tokens[0].count)
        let (c, h, d) = (config.width, config.heads, config.headWidth)

        var dFinal: Tensor
        if config.tiedUnembedding {
            dFinal = tape.finalNormalized.matmulTransposedBackward(
                weight: weights.tokenEmbedding, outputGradient: logitsGradient, weightGradient: &gradients.tokenEmbedding)
        } else {
            var unembeddingGradient = gradients.untiedUnembedding!
            dFinal = tape.finalNormalized.matmulTransposedBackward(
                weight: weights.unembedding, outputGradient: logitsGradient, weightGradient: &unembeddingGradient)
            gradients.untiedUnembedding = unembeddingGradient
        }
        try record("ln_final.hook_normalized", dFinal)
        var dResidual = tape.residualOut.layerNormBackward(
            outputGradient: dFinal, weight: weights.finalNormWeight, mean: tape.finalMean, rstd: tape.finalRstd,
            weightGradient: &gradients.finalNormWeight, biasGradient: &gradients.finalNormBias)

        for layer in stride(from: config.layers - 1, through: 0, by: -1) {
            let saved = tape.layers[layer]
            let block = weights.blocks[layer]
            var grads = gradients.blocks[layer]
            let prefix = "blocks.\(layer)."
            try record(prefix + "hook_resid_post", dResidual)
            try record(prefix + "hook_mlp_out", dResidual)
            let dPost = Self.linearBackward(
                saved.mlpPost, weight: block.mlpOutputWeight, outputGradient: dResidual,
                weightGradient: &grads.mlpOutputWeight, biasGradient: &grads.mlpOutputBias)
            try record(prefix + "mlp.hook_post", dPost)
            let dPre = saved.mlpPre.activationBackward(config.activation, outputGradient: dPost)
            try record(prefix + "mlp.hook_pre", dPre)
            let dLn2 = Self.linearBackward(
                saved.ln2, weight: block.mlpInputWeight, outputGradient: dPre,
                weightGradient: &grads.mlpInputWeight, biasGradient: &grads.mlpInputBias)
            try record(prefix + "ln2.hook_normalized", dLn2)
            dResidual.add(saved.residualMid.layerNormBackward(
                outputGradient: dLn2, weight: block.ln2Weight, mean: saved.ln2Mean, rstd: saved.ln2Rstd,
                weightGradient: &grads.ln2Weight, biasGradient: &grads.ln2Bias))

            try record(prefix + "hook_resid_mid", dResidual)
            try record(prefix + "hook_attn_out", dResidual)
            if hooks.contains(prefix + "attn.hook_result") {
                // attn_out = Σ_h result_h + b, so every head's result receives the same gradient.
                let perHead = try dResidual.reshaped([b, t, 1, c])
                hookGradients[prefix + "attn.hook_result"] = try Tensor.concatenateLastDimension(
                    Array(repeating: perHead, count: h)).reshaped([b, t, h, c])
            }
            let dz = try Self.linearBackward(
                saved.z.reshaped([b, t, c]), weight: block.attentionOutputWeight, outputGradient: dResidual,
                weightGradient: &grads.attentionOutputWeight, biasGradient: &grads.attentionOutputBias).reshaped([b, t, h, d])
            try record(prefix + "attn.hook_z", dz)
            let (dPattern, dValue) = CausalAttention.mixBackward(pattern: saved.pattern, value: saved.value, zGradient: dz)
            try record(prefix + "attn.hook_pattern", dPattern)
            try record(prefix + "attn.hook_v", dValue)
            let dScores = CausalAttention.patternBackward(pattern: saved.pattern, patternGradient: dPattern)
            try record(prefix + "attn.hook_attn_scores", dScores)
            let (dQuery, dKey) = CausalAttention.scoresBackward(
                query: saved.query, key: saved.key, scale: saved.scale, scoresGradient: dScores)
            try record(prefix + "attn.hook_q", dQuery)
            try record(prefix + "attn.hook_k", dKey)
            let dQKV = Tensor.concatenateLastDimension([
                try dQuery.reshaped([b, t, c]), try dKey.reshaped([b, t, c]), try dValue.reshaped([b, t, c]),
            ])
            let dLn1 = Self.linearBackward(
                saved.ln1, weight: block.attentionWeight, outputGradient: dQKV,
                weightGradient: &grads.attentionWeight, biasGradient: &grads.attentionBias)
            try record(prefix + "ln1.hook_normalized", dLn1)
            dResidual.add(saved.residualIn.layerNormBackward(
                outputGradient: dLn1, weight: block.ln1Weight, mean: saved.ln1Mean, rstd: saved.ln1Rstd,
                weightGradient: &grads.ln1Weight, biasGradient: &grads.ln1Bias))
            try record(prefix + "hook_resid_pre", dResidual)
            gradients.blocks[layer] = grads
        }

        try record("hook_embed", dResidual)
        try record("hook_pos_embed", dResidual)
        gradients.tokenEmbedding.scatterAddRows(tape.tokens.flatMap { $0 }, outputGradient: dResidual)
        for item in 0..<b {
            gradients.positionEmbedding.scatterAddRows(Array(0..<t), outputGradient: dResidual.slice(item))
        }
    }

    /// Backward of `input.matmul(weight, bias:)`: accumulates both parameter gradients and returns
    /// the input gradient.
    private static func linearBackward(
        _ input: Tensor, weight: Tensor, outputGradient: Tensor, weightGradient: inout Tensor, biasGradient: inout Tensor
    ) -> Tensor {
        var bias: Tensor? = biasGradient
        // `needsInputGradient` is left at true, so the input gradient is always returned.
        let inputGradient = input.matmulBackward(
            weight: weight, outputGradient: outputGradient, weightGradient: &weightGradient, biasGradient: &bias)!
        if let bias { biasGradient = bias }
        return inputGradient
    }
}
