import Foundation
import LoupeCore

/// The parameters of one transformer block. Shape legend: C width, M MLP width.
public struct GPT2BlockWeights: Sendable {
    /// `ln_1` weight and bias `[C]`.
    public var ln1Weight: Tensor, ln1Bias: Tensor
    /// `attn.c_attn`: fused q/k/v projection, weight `[C, 3C]`, bias `[3C]`.
    public var attentionWeight: Tensor, attentionBias: Tensor
    /// `attn.c_proj`: output projection W_O, weight `[C, C]` (rows head-major), bias `[C]`.
    public var attentionOutputWeight: Tensor, attentionOutputBias: Tensor
    /// `ln_2` weight and bias `[C]`.
    public var ln2Weight: Tensor, ln2Bias: Tensor
    /// `mlp.c_fc`: weight `[C, M]`, bias `[M]`.
    public var mlpInputWeight: Tensor, mlpInputBias: Tensor
    /// `mlp.c_proj`: weight `[M, C]`, bias `[C]`.
    public var mlpOutputWeight: Tensor, mlpOutputBias: Tensor
}

/// All parameters of a GPT-2 model, named as in Hugging Face with Conv1D weights stored `[in, out]`.
///
/// Shape legend: V vocabulary, P positions, C width. The unembedding is tied to `tokenEmbedding`.
public struct GPT2Weights: Sendable {
    /// `wte` `[V, C]`, also the unembedding.
    public var tokenEmbedding: Tensor
    /// `wpe` `[P, C]`.
    public var positionEmbedding: Tensor
    /// One entry per block.
    public var blocks: [GPT2BlockWeights]
    /// `ln_f` weight and bias `[C]`.
    public var finalNormWeight: Tensor, finalNormBias: Tensor
    /// `lm_head.weight` `[V, C]` when the config unties it from `wte`; `nil` when tied.
    public var untiedUnembedding: Tensor?

    /// The unembedding `[V, C]`: logits = final-normed residual · unembeddingᵀ.
    public var unembedding: Tensor { untiedUnembedding ?? tokenEmbedding }

    /// Every parameter's Hugging Face name (without the `transformer.` prefix) and where it is
    /// stored, in a fixed order.
    public var parameterPaths: [(String, WritableKeyPath<GPT2Weights, Tensor>)] {
        var list: [(String, WritableKeyPath<GPT2Weights, Tensor>)] = [("wte.weight", \.tokenEmbedding), ("wpe.weight", \.positionEmbedding)]
        for i in blocks.indices {
            list += [
                ("h.\(i).ln_1.weight", \.blocks[i].ln1Weight), ("h.\(i).ln_1.bias", \.blocks[i].ln1Bias),
                ("h.\(i).attn.c_attn.weight", \.blocks[i].attentionWeight), ("h.\(i).attn.c_attn.bias", \.blocks[i].attentionBias),
                ("h.\(i).attn.c_proj.weight", \.blocks[i].attentionOutputWeight),
                ("h.\(i).attn.c_proj.bias", \.blocks[i].attentionOutputBias),
                ("h.\(i).ln_2.weight", \.blocks[i].ln2Weight), ("h.\(i).ln_2.bias", \.blocks[i].ln2Bias),
                ("h.\(i).mlp.c_fc.weight", \.blocks[i].mlpInputWeight), ("h.\(i).mlp.c_fc.bias", \.blocks[i].mlpInputBias),
                ("h.\(i).mlp.c_proj.weight", \.blocks[i].mlpOutputWeight), ("h.\(i).mlp.c_proj.bias", \.blocks[i].mlpOutputBias),
            ]
        }
        list += [("ln_f.weight", \.finalNormWeight), ("ln_f.bias", \.finalNormBias)]
        if untiedUnembedding != nil { list.append(("lm_head.weight", \.untiedUnembedding!)) }
        return list
    }

    /// Every parameter with its Hugging Face name, in the order of `parameterPaths`.
    public var named: [(String, Tensor)] {
        parameterPaths.map { ($0.0, self[keyPath: $0.1]) }
    }

    /// A copy of `base` in which the tensors named in `replacements` (names as in `named`) are
    /// replaced; entries with another name or shape are ignored.
    public static func withNamed(_ replacements: [String: Tensor], like base: GPT2Weights) -> GPT2Weights {
        var result = base
        for (name, path) in base.parameterPaths {
            if let tensor = replacements[name], tensor.shape == base[keyPath: path].shape { result[keyPath: path] = tensor }
        }
        return result
    }

    /// The shape every parameter must have under `config`, by Hugging Face name.
    static func expectedShapes(_ config: GPT2Config) -> [(String, [Int])] {
        let (c, m) = (config.width, config.mlpWidth)
        var list: [(String, [Int])] = [("wte.weight", [config.vocabularySize, c]), ("wpe.weight", [config.contextLength, c])]
        for i in 0..<config.layers {
            list += [
                ("h.\(i).ln_1.weight", [c]), ("h.\(i).ln_1.bias", [c]),
                ("h.\(i).attn.c_attn.weight", [c, 3 * c]), ("h.\(i).attn.c_attn.bias", [3 * c]),
                ("h.\(i).attn.c_proj.weight", [c, c]), ("h.\(i).attn.c_proj.bias", [c]),
                ("h.\(i).ln_2.weight", [c]), ("h.\(i).ln_2.bias", [c]),
                ("h.\(i).mlp.c_fc.weight", [c, m]), ("h.\(i).mlp.c_fc.bias", [m]),
                ("h.\(i).mlp.c_proj.weight", [m, c]), ("h.\(i).mlp.c_proj.bias", [c]),
            ]
        }
        list += [("ln_f.weight", [c]), ("ln_f.bias", [c])]
        if !config.tiedUnembedding { list.append(("lm_head.weight", [config.vocabularySize, c])) }
        return list
    }

    /// Builds the weights from tensors by Hugging Face name, in the order of `expectedShapes`.
    init(config: GPT2Config, tensors: [String: Tensor]) {
        func t(_ name: String) -> Tensor { tensors[name]! }
        tokenEmbedding = t("wte.weight")
        positionEmbedding = t("wpe.weight")
        blocks = (0..<config.layers).map { i in
            GPT2BlockWeights(
                ln1Weight: t("h.\(i).ln_1.weight"), ln1Bias: t("h.\(i).ln_1.bias"),
                attentionWeight: t("h.\(i).attn.c_attn.weight"), attentionBias: t("h.\(i).attn.c_attn.bias"),
                attentionOutputWeight: t("h.\(i).attn.c_proj.weight"), attentionOutputBias: t("h.\(i).attn.c_proj.bias"),
                ln2Weight: t("h.\(i).ln_2.weight"), ln2Bias: t("h.\(i).ln_2.bias"),
                mlpInputWeight: t("h.\(i).mlp.c_fc.weight"), mlpInputBias: t("h.\(i).mlp.c_fc.bias"),
                mlpOutputWeight: t("h.\(i).mlp.c_proj.weight"), mlpOutputBias: t("h.\(i).mlp.c_proj.bias"))
        }
        finalNormWeight = t("ln_f.weight")
        finalNormBias = t("ln_f.bias")
        untiedUnembedding = config.tiedUnembedding ? nil : t("lm_head.weight")
    }

    /// Reads `model.safetensors` (keys with or without the `transformer.` prefix; F32, F16 or BF16)
    /// and checks every tensor against `config`.
    public static func load(url: URL, config: GPT2Config) throws -> GPT2Weights {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(url: url)
        } catch let error as CoreError {
            throw ModelError.invalidWeights(path: url.path, reason: error.description)
        }
        let prefix = file.entries["transformer.wte.weight"] != nil ? "transformer." : ""
        var tensors: [String: Tensor] = [:]
        for (name, shape) in expectedShapes(config) {
            let stored = name == "lm_head.weight" ? name : prefix + name
            guard let entry = file.entries[stored] else {
                throw ModelError.invalidWeights(path: url.path, reason: "tensor '\(stored)' is missing")
            }
            guard entry.shape == shape else {
                throw ModelError.invalidWeights(
                    path: url.path,
                    reason: "tensor '\(stored)' has shape \(entry.shape) but config.json implies \(shape)")
            }
            tensors[name] = try file.tensor(stored)
        }
        return GPT2Weights(config: config, tensors: tensors)
    }

    /// Random weights with GPT-2's initialisation (normal 0.02, residual projections scaled by
    /// 1/√(2·layers), layer norms at identity), for benchmarks and training from scratch.
    public static func random(config: GPT2Config, seed: UInt64) -> GPT2Weights {
        var rng = SeededRandom(seed: seed)
        let tensors = GPT2Initialisation.tensors(
            shapes: expectedShapes(config), residualScale: 1 / Float(2 * config.layers).squareRoot(), rng: &rng,
            isLayerNormWeight: { $0.hasSuffix("ln_1.weight") || $0.hasSuffix("ln_2.weight") || $0 == "ln_f.weight" },
            isResidualProjection: { $0.hasSuffix("c_proj.weight") })
        return GPT2Weights(config: config, tensors: tensors)
    }
}
