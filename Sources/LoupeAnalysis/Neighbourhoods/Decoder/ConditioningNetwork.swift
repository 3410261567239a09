import LoupeCore
import LoupeModel

/// The parameters of an inversion decoder's conditioning network, which turns an activation into one
/// prefix vector per body layer. Shape legend: S sites, A activation width, E site-embedding width,
/// C body width, L body layers; matrices are `[in, out]`.
public struct ConditioningWeights: Sendable {
    /// One residual block: `h + fc2(relu(fc1(LayerNorm(h))))`.
    public struct Block: Sendable {
        /// `[C]` each.
        public var lnWeight: Tensor, lnBias: Tensor
        /// `[C, C]` and `[C]`.
        public var fc1Weight: Tensor, fc1Bias: Tensor
        public var fc2Weight: Tensor, fc2Bias: Tensor
    }

    /// One body layer's prefix: `LayerNorm(c · weight + bias)`.
    public struct Prefix: Sendable {
        /// `[C, C]`, `[C]`, and the layer norm's `[C]` each.
        public var weight: Tensor, bias: Tensor, lnWeight: Tensor, lnBias: Tensor
    }

    /// `[S, E]`.
    public var siteEmbedding: Tensor
    /// `[A + E, C]` and `[C]`.
    public var inputWeight: Tensor, inputBias: Tensor
    public var blocks: [Block]
    /// `[C]` each.
    public var finalWeight: Tensor, finalBias: Tensor
    /// One per body layer.
    public var prefixes: [Prefix]

    /// Every parameter's name in `model.safetensors` and where it is stored, in a fixed order.
    public var parameterPaths: [(String, WritableKeyPath<ConditioningWeights, Tensor>)] {
        var list: [(String, WritableKeyPath<ConditioningWeights, Tensor>)] = [
            ("site_embedding", \.siteEmbedding), ("condition.input.weight", \.inputWeight), ("condition.input.bias", \.inputBias),
        ]
        for i in blocks.indices {
            let name = "condition.blocks.\(i)."
            list += [
                (name + "ln.weight", \.blocks[i].lnWeight), (name + "ln.bias", \.blocks[i].lnBias),
                (name + "fc1.weight", \.blocks[i].fc1Weight), (name + "fc1.bias", \.blocks[i].fc1Bias),
                (name + "fc2.weight", \.blocks[i].fc2Weight), (name + "fc2.bias", \.blocks[i].fc2Bias),
            ]
        }
        list += [("condition.ln_final.weight", \.finalWeight), ("condition.ln_final.bias", \.finalBias)]
        for l in prefixes.indices {
            let name = "prefix.\(l)."
            list += [
                (name + "weight", \.prefixes[l].weight), (name + "bias", \.prefixes[l].bias),
                (name + "ln.weight", \.prefixes[l].lnWeight), (name + "ln.bias", \.prefixes[l].lnBias),
            ]
        }
        return list
    }

    /// The shape of every parameter under `config`, by name, in the order of `parameterPaths`.
    static func expectedShapes(_ config: DecoderConfig) -> [(String, [Int])] {
        let c = config.body.width
        var list: [(String, [Int])] = [
            ("site_embedding", [config.sites.count, config.siteEmbeddingWidth]),
            ("condition.input.weight", [config.activationWidth + config.siteEmbeddingWidth, c]), ("condition.input.bias", [c]),
        ]
        for i in 0..<config.conditioningBlocks {
            let name = "condition.blocks.\(i)."
            list += [
                (name + "ln.weight", [c]), (name + "ln.bias", [c]), (name + "fc1.weight", [c, c]), (name + "fc1.bias", [c]),
                (name + "fc2.weight", [c, c]), (name + "fc2.bias", [c]),
            ]
        }
        list += [("condition.ln_final.weight", [c]), ("condition.ln_final.bias", [c])]
        for l in 0..<config.body.layers {
            let name = "prefix.\(l)."
            list += [(name + "weight", [c, c]), (name + "bias", [c]), (name + "ln.weight", [c]), (name + "ln.bias", [c])]
        }
        return list
    }

    /// Builds the weights from tensors by name (every name of `expectedShapes` present).
    init(config: DecoderConfig, tensors: [String: Tensor]) {
        func t(_ name: String) -> Tensor { tensors[name]! }
        siteEmbedding = t("site_embedding")
        inputWeight = t("condition.input.weight")
        inputBias = t("condition.input.bias")
        blocks = (0..<config.conditioningBlocks).map { i in
            let name = "condition.blocks.\(i)."
            return Block(
                lnWeight: t(name + "ln.weight"), lnBias: t(name + "ln.bias"), fc1Weight: t(name + "fc1.weight"), fc1Bias: t(name + "fc1.bias"),
                fc2Weight: t(name + "fc2.weight"), fc2Bias: t(name + "fc2.bias"))
        }
        finalWeight = t("condition.ln_final.weight")
        finalBias = t("condition.ln_final.bias")
        prefixes = (0..<config.body.layers).map { l in
            let name = "prefix.\(l)."
            return Prefix(weight: t(name + "weight"), bias: t(name + "bias"), lnWeight: t(name + "ln.weight"), lnBias: t(name + "ln.bias"))
        }
    }

    /// All-zero tensors of `config`'s shapes (a gradient accumulator).
    static func zeros(config: DecoderConfig) -> ConditioningWeights {
        ConditioningWeights(config: config, tensors: Dictionary(uniqueKeysWithValues: expectedShapes(config).map { ($0.0, Tensor(shape: $0.1)) }))
    }

    /// Random initial weights: matrices normal with standard deviation 0.02 (the residual blocks'
    /// second layers scaled by 1/√(2N)), the site embedding normal 0.02, layer norms at identity.
    static func random(config: DecoderConfig, rng: inout SeededRandom) -> ConditioningWeights {
        let tensors = GPT2Initialisation.tensors(
            shapes: expectedShapes(config), residualScale: 1 / Float(max(1, 2 * config.conditioningBlocks)).squareRoot(), rng: &rng,
            isLayerNormWeight: { $0.hasSuffix("ln.weight") || $0 == "condition.ln_final.weight" },
            isResidualProjection: { $0.hasSuffix("fc2.weight") })
        return ConditioningWeights(config: config, tensors: tensors)
    }
}

/// What the conditioning network's forward pass keeps for its backward pass (B examples).
struct ConditioningTape {
    /// The site of each example.
    var sites: [Int]
    /// `[B, A + E]`: scaled, padded activations and site embeddings.
    var input: Tensor
    /// Per block: its input `h` `[B, C]`, the layer norm's output and statistics, `fc1`'s output before and after ReLU.
    var blockInputs: [Tensor] = [], normalized: [Tensor] = [], means: [[Float]] = [], rstds: [[Float]] = []
    var hidden: [Tensor] = [], activated: [Tensor] = []
    /// The last block's output `[B, C]`, the final layer norm's statistics and output `c`.
    var last = Tensor(shape: [0]), finalMean: [Float] = [], finalRstd: [Float] = [], condition = Tensor(shape: [0])
    /// Per body layer: `c · weight + bias` `[B, C]` and its layer norm's statistics.
    var projected: [Tensor] = [], prefixMeans: [[Float]] = [], prefixRstds: [[Float]] = []
}

/// The conditioning network: activation ⊕ site embedding → Linear → N residual MLP blocks →
/// LayerNorm → per body layer Linear + LayerNorm, the prefix slot of that layer.
enum ConditioningNetwork {
    /// The prefix `[L, B, C]` for `activations` (B rows, each `[w_site]`, unscaled) at `sites`, and
    /// the tape its backward pass needs.
    static func forward(
        _ weights: ConditioningWeights, config: DecoderConfig, activations: [[Float]], sites: [Int]
    ) throws -> (prefix: Tensor, tape: ConditioningTape) {
        let (b, a, e, c) = (activations.count, config.activationWidth, config.siteEmbeddingWidth, config.body.width)
        let epsilon = config.body.layerNormEpsilon
        var input = Tensor(shape: [b, a + e])
        for (row, (activation, site)) in zip(activations, sites).enumerated() {
            let spec = config.sites[site]
            precondition(activation.count == spec.width, "ConditioningNetwork: activation of width \(activation.count) for site \(spec.label) of width \(spec.width)")
            for (i, value) in activation.enumerated() { input.scalars[row * (a + e) + i] = value * spec.scale }
            input.scalars.replaceSubrange((row * (a + e) + a)..<((row + 1) * (a + e)), with: weights.siteEmbedding.scalars[(site * e)..<((site + 1) * e)])
        }
        var tape = ConditioningTape(sites: sites, input: input)
        var h = try input.matmul(weights.inputWeight, bias: weights.inputBias)
        for block in weights.blocks {
            tape.blockInputs.append(h)
            let norm = try h.layerNormWithStatistics(weight: block.lnWeight, bias: block.lnBias, epsilon: epsilon)
            let hidden = try norm.output.matmul(block.fc1Weight, bias: block.fc1Bias)
            let activated = hidden.applying(.relu)
            h.add(try activated.matmul(block.fc2Weight, bias: block.fc2Bias))
            tape.normalized.append(norm.output)
            tape.means.append(norm.mean)
            tape.rstds.append(norm.rstd)
            tape.hidden.append(hidden)
            tape.activated.append(activated)
        }
        tape.last = h
        let final = try h.layerNormWithStatistics(weight: weights.finalWeight, bias: weights.finalBias, epsilon: epsilon)
        tape.finalMean = final.mean
        tape.finalRstd = final.rstd
        tape.condition = final.output
        var prefix = Tensor(shape: [weights.prefixes.count, b, c])
        for (layer, slot) in weights.prefixes.enumerated() {
            let projected = try final.output.matmul(slot.weight, bias: slot.bias)
            let norm = try projected.layerNormWithStatistics(weight: slot.lnWeight, bias: slot.lnBias, epsilon: epsilon)
            prefix.scalars.replaceSubrange((layer * b * c)..<((layer + 1) * b * c), with: norm.output.scalars)
            tape.projected.append(projected)
            tape.prefixMeans.append(norm.mean)
            tape.prefixRstds.append(norm.rstd)
        }
        return (prefix, tape)
    }

    /// Accumulates into `gradients` the parameter gradients for `prefixGradient` (`[L, B, C]`,
    /// d(objective)/d(prefix)) through the pass recorded in `tape`.
    static func backward(
        _ weights: ConditioningWeights, tape: ConditioningTape, prefixGradient: Tensor, gradients: inout ConditioningWeights
    ) throws {
        let (b, c) = (tape.sites.count, weights.inputBias.count)
        var dCondition = Tensor(shape: [b, c])
        for (layer, slot) in weights.prefixes.enumerated() {
            var g = gradients.prefixes[layer]
            let dOut = try Tensor(shape: [b, c], scalars: Array(prefixGradient.scalars[(layer * b * c)..<((layer + 1) * b * c)]))
            let dProjected = tape.projected[layer].layerNormBackward(
                outputGradient: dOut, weight: slot.lnWeight, mean: tape.prefixMeans[layer], rstd: tape.prefixRstds[layer],
                weightGradient: &g.lnWeight, biasGradient: &g.lnBias)
            var bias: Tensor? = g.bias
            dCondition.add(tape.condition.matmulBackward(weight: slot.weight, outputGradient: dProjected, weightGradient: &g.weight, biasGradient: &bias)!)
            g.bias = bias!
            gradients.prefixes[layer] = g
        }
        var dH = tape.last.layerNormBackward(
            outputGradient: dCondition, weight: weights.finalWeight, mean: tape.finalMean, rstd: tape.finalRstd,
            weightGradient: &gradients.finalWeight, biasGradient: &gradients.finalBias)
        for (i, block) in weights.blocks.enumerated().reversed() {
            var g = gradients.blocks[i]
            var fc2Bias: Tensor? = g.fc2Bias
            let dActivated = tape.activated[i].matmulBackward(
                weight: block.fc2Weight, outputGradient: dH, weightGradient: &g.fc2Weight, biasGradient: &fc2Bias)!
            let dHidden = tape.hidden[i].activationBackward(.relu, outputGradient: dActivated)
            var fc1Bias: Tensor? = g.fc1Bias
            let dNormalized = tape.normalized[i].matmulBackward(
                weight: block.fc1Weight, outputGradient: dHidden, weightGradient: &g.fc1Weight, biasGradient: &fc1Bias)!
            g.fc1Bias = fc1Bias!
            g.fc2Bias = fc2Bias!
            dH.add(tape.blockInputs[i].layerNormBackward(
                outputGradient: dNormalized, weight: block.lnWeight, mean: tape.means[i], rstd: tape.rstds[i],
                weightGradient: &g.lnWeight, biasGradient: &g.lnBias))
            gradients.blocks[i] = g
        }
        var inputBias: Tensor? = gradients.inputBias
        let dInput = tape.input.matmulBackward(
            weight: weights.inputWeight, outputGradient: dH, weightGradient: &gradients.inputWeight, biasGradient: &inputBias)!
        gradients.inputBias = inputBias!
        let width = tape.input.shape[1]
        let e = weights.siteEmbedding.shape[1]
        for (row, site) in tape.sites.enumerated() {
            for j in 0..<e { gradients.siteEmbedding.scalars[site * e + j] += dInput.scalars[row * width + width - e + j] }
        }
    }
}
