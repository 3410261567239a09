import Foundation
import LoupeCore
import LoupeFindings

extension GPT2Config {
    /// The Hugging Face `activation_function` name of `activation`.
    var huggingFaceActivationName: String {
        switch activation {
        case .geluTanh: return "gelu_new"
        case .geluErf: return "gelu"
        case .relu: return "relu"
        case .silu: return "silu"
        }
    }

    /// The Hugging Face `config.json` fields of this configuration.
    public var huggingFaceJSON: [String: Any] {
        var json: [String: Any] = [
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "vocab_size": vocabularySize,
            "n_positions": contextLength,
            "n_ctx": contextLength,
            "n_embd": width,
            "n_head": heads,
            "n_layer": layers,
            "n_inner": mlpWidth,
            "layer_norm_epsilon": Double(layerNormEpsilon),
            "activation_function": huggingFaceActivationName,
            "scale_attn_weights": scaleAttentionWeights,
            "scale_attn_by_inverse_layer_idx": scaleAttentionByInverseLayerIndex,
            "tie_word_embeddings": tiedUnembedding,
            "bos_token_id": 0,
            "eos_token_id": 0,
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
            "initializer_range": 0.02,
        ]
        json["torch_dtype"] = "float32"
        return json
    }
}

extension GPT2Model {
    /// Writes `config.json` and `model.safetensors` (keys with the `transformer.` prefix, as
    /// Hugging Face's `GPT2LMHeadModel` saves them) into `directory`, creating it if needed.
    public func save(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let json = try JSONWriter.encode(object: config.huggingFaceJSON, layout: .pretty)
            try json.write(to: directory.appendingPathComponent(ModelFiles.config), options: .atomic)
        } catch {
            throw ModelError.invalidConfig(path: directory.appendingPathComponent(ModelFiles.config).path, key: nil, reason: "cannot write: \(error.localizedDescription)")
        }
        var tensors: [String: SafetensorsValue] = [:]
        for (name, tensor) in weights.named {
            tensors[name == "lm_head.weight" ? name : "transformer." + name] = .float32(tensor)
        }
        try SafetensorsWriter.write(tensors, to: directory.appendingPathComponent(ModelFiles.weights), metadata: ["format": "pt"])
    }
}
