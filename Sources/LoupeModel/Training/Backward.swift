import LoupeCore

/// Gradients from one backward pass: one tensor per parameter (same layout as the weights) and
/// the gradients of the hook activations that were asked for (same shapes as the activations).
public struct Gradients: Sendable {
    /// d(objective)/d(parameter), in the layout of `GPT2Weights`.
    public var parameters: GPT2Weights
    /// d(objective)/d(activation) by hook name.
    public var hooks: [String: Tensor]
    /// d(objective)/d(prefix slot) `[L, B, C]` when the pass had one (`ForwardRequest.prefix`).
    public var prefix: Tensor?
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
        try checkBackward(tape: tape, gradient: logitsGradient, named: "logits", expectedLast: config.vocabularySize, hooks: hooks)
        var pass = BackwardPass(model: self, tape: tape, hooks: hooks, parameters: true)
        try pass.run(logitsGradient: logitsGradient)
        return Gradients(parameters: pass.gradients!, hooks: pass.hookGradients, prefix: pass.prefixGradient)
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

/// Where a component reads the residual stream (before its own layer norm).
public enum ComponentInput: Hashable, Sendable {
    /// `blocks.L.hook_resid_pre` as head `head`'s query reads it.
    case query(layer: Int, head: Int)
    /// `blocks.L.hook_resid_pre` as head `head`'s key reads it.
    case key(layer: Int, head: Int)
    /// `blocks.L.hook_resid_pre` as head `head`'s value reads it.
    case value(layer: Int, head: Int)
    /// `blocks.L.hook_resid_mid` as the MLP reads it (through `ln_2`).
    case mlp(layer: Int)
    /// The final residual stream as the unembedding reads it (through `ln_final`).
    case unembedding
}

extension GPT2Model {
    /// Back-propagates `finalGradient` (`[B, T, C]`, d(objective)/d(`ln_final.hook_normalized`))
    /// through the pass recorded in `tape`, without parameter gradients.
    ///
    /// `visit` receives d(objective)/d(x) `[B, T, C]` for every component input x: the residual stream
    /// as that component alone reads it, so a head's query, key and value each get the gradient that
    /// flows through their own path only (their sum, plus the MLP's and the skip connection's, is the
    /// gradient of the residual stream). Order: unembedding, then from the last layer down the MLP,
    /// then for each head its query, key and value. Returns the gradients of `hooks`
    /// (`ln1.hook_normalized` excepted).
    public func componentInputGradients(
        tape: ForwardTape, finalGradient: Tensor, hooks: Set<String> = [], visit: (ComponentInput, Tensor) throws -> Void
    ) throws -> [String: Tensor] {
        try checkBackward(tape: tape, gradient: finalGradient, named: "final", expectedLast: config.width, hooks: hooks)
        return try withoutActuallyEscaping(visit) { visit in
            var pass = BackwardPass(model: self, tape: tape, hooks: hooks, parameters: false, visit: visit)
            try pass.run(finalGradient: finalGradient)
            return pass.hookGradients
        }
    }

    /// Throws unless `tape` was recorded by this model's configuration, `gradient` (the `name`
    /// gradient) is `[B, T, expectedLast]` for the tape's tokens and every hook name exists.
    private func checkBackward(tape: ForwardTape, gradient: Tensor, named name: String, expectedLast: Int, hooks: Set<String>) throws {
        guard tape.config == config else {
            throw ModelError.invalidInput(reason: "the tape was recorded by a model of another configuration")
        }
        let expected = [tape.tokens.count, tape.tokens[0].count, expectedLast]
        guard gradient.shape == expected else {
            throw ModelError.invalidInput(reason: "the \(name) gradient has shape \(gradient.shape), expected \(expected)")
        }
        for name in hooks {
            guard let point = HookPoint(name), (point.layer ?? 0) < config.layers else { throw ModelError.unknownHook(name: name) }
        }
    }
}

/// The state of one backward pass. With `parameters`, every parameter's gradient is accumulated;
/// without, only activation gradients are computed (no weight products), and `visit` may be given
/// the gradient of every component's own residual-stream input.
private struct BackwardPass {
    let model: GPT2Model
    let tape: ForwardTape
    let hooks: Set<String>
    var gradients: GPT2Weights?
    var hookGradients: [String: Tensor] = [:]
    /// `[L, B, C]` when the tape has a prefix slot.
    var prefixGradient: Tensor?
    let visit: ((ComponentInput, Tensor) throws -> Void)?

    init(model: GPT2Model, tape: ForwardTape, hooks: Set<String>, parameters: Bool, visit: ((ComponentInput, Tensor) throws -> Void)? = nil) {
        self.model = model
        self.tape = tape
        self.hooks = hooks
        self.visit = visit
        precondition(!(parameters && visit != nil), "component input gradients are computed without parameter gradients")
        gradients = parameters ? GPT2Weights.zeros(config: model.config) : nil
        if tape.prefixed { prefixGradient = Tensor(shape: [model.config.layers, tape.tokens.count, model.config.width]) }
    }

    private mutating func record(_ name: String, _ gradient: Tensor) {
        if hooks.contains(name) { hookGradients[name] = gradient }
    }

    /// Back-propagates through the unembedding (accumulating its gradient), then the rest.
    mutating func run(logitsGradient: Tensor) throws {
        let weights = model.weights
        var accumulated = gradients!
        let dFinal: Tensor
        if model.config.tiedUnembedding {
            dFinal = tape.finalNormalized.matmulTransposedBackward(
                weight: weights.tokenEmbedding, outputGradient: logitsGradient, weightGradient: &accumulated.tokenEmbedding)
        } else {
            var unembeddingGradient = accumulated.untiedUnembedding!
            dFinal = tape.finalNormalized.matmulTransposedBackward(
                weight: weights.unembedding, outputGradient: logitsGradient, weightGradient: &unembeddingGradient)
            accumulated.untiedUnembedding = unembeddingGradient
        }
        gradients = accumulated
        try run(finalGradient: dFinal)
    }

    mutating func run(finalGradient dFinal: Tensor) throws {
        let config = model.config
        let weights = model.weights
        let (b, t) = (tape.tokens.count, tape.tokens[0].count)
        let (c, h, d) = (config.width, config.heads, config.headWidth)

        record("ln_final.hook_normalized", dFinal)
        var finalNorm = NormGradients(width: c)
        var dResidual = tape.residualOut.layerNormBackward(
            outputGradient: dFinal, weight: weights.finalNormWeight, mean: tape.finalMean, rstd: tape.finalRstd,
            weightGradient: &finalNorm.weight, biasGradient: &finalNorm.bias)
        if gradients != nil {
            gradients!.finalNormWeight.add(finalNorm.weight)
            gradients!.finalNormBias.add(finalNorm.bias)
        }
        try visit?(.unembedding, dResidual)

        for layer in stride(from: config.layers - 1, through: 0, by: -1) {
            let saved = tape.layers[layer]
            let block = weights.blocks[layer]
            var grads = gradients?.blocks[layer]
            let prefix = "blocks.\(layer)."
            record(prefix + "hook_resid_post", dResidual)
            record(prefix + "hook_mlp_out", dResidual)
            let dPost = try linearBackward(
                saved.mlpPost, weight: block.mlpOutputWeight, outputGradient: dResidual,
                gradients: &grads, \.mlpOutputWeight, \.mlpOutputBias)
            record(prefix + "mlp.hook_post", dPost)
            let dPre = saved.mlpPre.activationBackward(config.activation, outputGradient: dPost)
            record(prefix + "mlp.hook_pre", dPre)
            let dLn2 = try linearBackward(
                saved.ln2, weight: block.mlpInputWeight, outputGradient: dPre,
                gradients: &grads, \.mlpInputWeight, \.mlpInputBias)
            record(prefix + "ln2.hook_normalized", dLn2)
            let dMlpInput = normBackward(
                saved.residualMid, outputGradient: dLn2, weight: block.ln2Weight, mean: saved.ln2Mean, rstd: saved.ln2Rstd,
                gradients: &grads, \.ln2Weight, \.ln2Bias)
            try visit?(.mlp(layer: layer), dMlpInput)
            dResidual.add(dMlpInput)

            record(prefix + "hook_resid_mid", dResidual)
            record(prefix + "hook_attn_out", dResidual)
            if hooks.contains(prefix + "attn.hook_result") {
                // attn_out = Σ_h result_h + b, so every head's result receives the same gradient.
                let perHead = try dResidual.reshaped([b, t, 1, c])
                hookGradients[prefix + "attn.hook_result"] = try Tensor.concatenateLastDimension(
                    Array(repeating: perHead, count: h)).reshaped([b, t, h, c])
            }
            let dz = try linearBackward(
                saved.z.reshaped([b, t, c]), weight: block.attentionOutputWeight, outputGradient: dResidual,
                gradients: &grads, \.attentionOutputWeight, \.attentionOutputBias).reshaped([b, t, h, d])
            record(prefix + "attn.hook_z", dz)
            let (dPattern, dValue) = CausalAttention.mixBackward(pattern: saved.pattern, value: saved.value, zGradient: dz)
            record(prefix + "attn.hook_pattern", dPattern)
            record(prefix + "attn.hook_v", dValue)
            let dScores = CausalAttention.patternBackward(pattern: saved.pattern, patternGradient: dPattern)
            record(prefix + "attn.hook_attn_scores", dScores)
            let (dQuery, dKey) = CausalAttention.scoresBackward(
                query: saved.query, key: saved.key, scale: saved.scale, scoresGradient: dScores)
            record(prefix + "attn.hook_q", dQuery)
            record(prefix + "attn.hook_k", dKey)
            let dQKV = Tensor.concatenateLastDimension([
                try dQuery.reshaped([b, t, c]), try dKey.reshaped([b, t, c]), try dValue.reshaped([b, t, c]),
            ])
            if visit != nil {
                dResidual.add(try headInputGradients(layer: layer, qkvGradient: dQKV))
            } else {
                let dLn1 = try linearBackward(
                    saved.ln1, weight: block.attentionWeight, outputGradient: dQKV,
                    gradients: &grads, \.attentionWeight, \.attentionBias)
                record(prefix + "ln1.hook_normalized", dLn1)
                dResidual.add(normBackward(
                    saved.residualIn, outputGradient: dLn1, weight: block.ln1Weight, mean: saved.ln1Mean, rstd: saved.ln1Rstd,
                    gradients: &grads, \.ln1Weight, \.ln1Bias))
            }
            record(prefix + "hook_resid_pre", dResidual)
            if prefixGradient != nil {
                // Row 0 was replaced by the prefix slot: its gradient goes there and no further down.
                for item in 0..<b {
                    let row = item * t * c
                    prefixGradient!.scalars.replaceSubrange(
                        ((layer * b + item) * c)..<((layer * b + item + 1) * c), with: dResidual.scalars[row..<(row + c)])
                    for i in row..<(row + c) { dResidual.scalars[i] = 0 }
                }
            }
            if let grads { gradients!.blocks[layer] = grads }
        }

        record("hook_embed", dResidual)
        record("hook_pos_embed", dResidual)
        guard gradients != nil else { return }
        gradients!.tokenEmbedding.scatterAddRows(tape.tokens.flatMap { $0 }, outputGradient: dResidual)
        for item in 0..<b {
            gradients!.positionEmbedding.scatterAddRows(Array(0..<t), outputGradient: dResidual.slice(item))
        }
    }

    /// The gradient of the residual stream before `ln_1` of `layer` through each head's query, key
    /// and value separately (each passed to `visit`), and their sum. `qkvGradient` is `[B, T, 3C]`.
    private func headInputGradients(layer: Int, qkvGradient: Tensor) throws -> Tensor {
        let config = model.config
        let saved = tape.layers[layer]
        let block = model.weights.blocks[layer]
        let (c, d) = (config.width, config.headWidth)
        let rows = qkvGradient.count / (3 * c)
        var noParameters: GPT2BlockWeights?
        var total = Tensor(shape: saved.residualIn.shape)
        for head in 0..<config.heads {
            for (part, input) in [ComponentInput.query, ComponentInput.key, ComponentInput.value].enumerated() {
                let columns = part * c + head * d
                var partGradient = Tensor(shape: [rows, d])
                var weightColumns = Tensor(shape: [c, d])
                for row in 0..<rows {
                    partGradient.scalars[(row * d)..<((row + 1) * d)] = qkvGradient.scalars[(row * 3 * c + columns)..<(row * 3 * c + columns + d)]
                }
                for channel in 0..<c {
                    weightColumns.scalars[(channel * d)..<((channel + 1) * d)] =
                        block.attentionWeight.scalars[(channel * 3 * c + columns)..<(channel * 3 * c + columns + d)]
                }
                let dLn1 = try partGradient.matmulTransposed(weightColumns).reshaped(saved.residualIn.shape)
                let dInput = normBackward(
                    saved.residualIn, outputGradient: dLn1, weight: block.ln1Weight, mean: saved.ln1Mean, rstd: saved.ln1Rstd,
                    gradients: &noParameters, \.ln1Weight, \.ln1Bias)
                try visit?(input(layer, head), dInput)
                total.add(dInput)
            }
        }
        return total
    }

    /// Backward of `input.matmul(weight, bias:)`: returns the input gradient and, when the pass
    /// accumulates parameters, adds the weight and bias gradients at `weightPath` and `biasPath`.
    private func linearBackward(
        _ input: Tensor, weight: Tensor, outputGradient: Tensor, gradients grads: inout GPT2BlockWeights?,
        _ weightPath: WritableKeyPath<GPT2BlockWeights, Tensor>, _ biasPath: WritableKeyPath<GPT2BlockWeights, Tensor>
    ) throws -> Tensor {
        guard grads != nil else { return try outputGradient.matmulTransposed(weight) }
        var bias: Tensor? = grads![keyPath: biasPath]
        // `needsInputGradient` is left at true, so the input gradient is always returned.
        let inputGradient = input.matmulBackward(
            weight: weight, outputGradient: outputGradient, weightGradient: &grads![keyPath: weightPath], biasGradient: &bias)!
        grads![keyPath: biasPath] = bias!
        return inputGradient
    }

    /// Backward of a layer norm of `input`: returns the input gradient and, when the pass
    /// accumulates parameters, adds the weight and bias gradients at `weightPath` and `biasPath`.
    private func normBackward(
        _ input: Tensor, outputGradient: Tensor, weight: Tensor, mean: [Float], rstd: [Float],
        gradients grads: inout GPT2BlockWeights?,
        _ weightPath: WritableKeyPath<GPT2BlockWeights, Tensor>, _ biasPath: WritableKeyPath<GPT2BlockWeights, Tensor>
    ) -> Tensor {
        var norm = NormGradients(width: weight.count)
        let inputGradient = input.layerNormBackward(
            outputGradient: outputGradient, weight: weight, mean: mean, rstd: rstd,
            weightGradient: &norm.weight, biasGradient: &norm.bias)
        if grads != nil {
            grads![keyPath: weightPath].add(norm.weight)
            grads![keyPath: biasPath].add(norm.bias)
        }
        return inputGradient
    }
}

/// Weight and bias gradients `[C]` of one layer norm.
private struct NormGradients {
    var weight: Tensor
    var bias: Tensor

    init(width: Int) {
        weight = Tensor(shape: [width])
        bias = Tensor(shape: [width])
    }
}
