import Foundation
import LoupeCore

/// The shape and numerics of a GPT-2-architecture model, read from a Hugging Face `config.json`.
public struct GPT2Config: Sendable, Equatable {
    /// `vocab_size` (V): rows of the token embedding and columns of the logits.
    public var vocabularySize: Int
    /// `n_positions`: the longest sequence the position embedding covers.
    public var contextLength: Int
    /// `n_embd` (C): residual stream width.
    public var width: Int
    /// `n_head` (H): attention heads per layer; head width D = C / H.
    public var heads: Int
    /// `n_layer`: transformer blocks.
    public var layers: Int
    /// `n_inner` (M): MLP hidden width, 4·C when the config leaves it null.
    public var mlpWidth: Int
    /// `layer_norm_epsilon`.
    public var layerNormEpsilon: Float
    /// `activation_function` of the MLP.
    public var activation: Activation
    /// `scale_attn_weights`: divide attention scores by √D.
    public var scaleAttentionWeights: Bool
    /// `scale_attn_by_inverse_layer_idx`: also divide layer L's scores by L + 1.
    public var scaleAttentionByInverseLayerIndex: Bool

    /// `tie_word_embeddings`: the unembedding is the token embedding (else `lm_head.weight`).
    public var tiedUnembedding: Bool

    /// Head width D = C / H.
    public var headWidth: Int { width / heads }

    /// A configuration from explicit sizes (used for models Loupe builds itself).
    public init(
        vocabularySize: Int, contextLength: Int, width: Int, heads: Int, layers: Int,
        mlpWidth: Int? = nil, layerNormEpsilon: Float = 1e-5, activation: Activation = .geluTanh,
        scaleAttentionWeights: Bool = true, scaleAttentionByInverseLayerIndex: Bool = false,
        tiedUnembedding: Bool = true
    ) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.width = width
        self.heads = heads
        self.layers = layers
        self.mlpWidth = mlpWidth ?? 4 * width
        self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation
        self.scaleAttentionWeights = scaleAttentionWeights
        self.scaleAttentionByInverseLayerIndex = scaleAttentionByInverseLayerIndex
        self.tiedUnembedding = tiedUnembedding
    }

    /// Hugging Face `activation_function` names and the activation each means.
    public static let activationNames: [String: Activation] = [
        "gelu_new": .geluTanh, "gelu_pytorch_tanh": .geluTanh, "gelu_fast": .geluTanh,
        "gelu": .geluErf, "relu": .relu, "silu": .silu, "swish": .silu,
    ]

    /// Reads and validates a Hugging Face GPT-2 `config.json`.
    public static func load(url: URL) throws -> GPT2Config {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError.invalidConfig(path: path, key: nil, reason: "cannot read the file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw ModelError.invalidConfig(path: path, key: nil, reason: "not a JSON object")
        }
        if let type = json["model_type"] as? String, type != "gpt2" {
            throw ModelError.invalidConfig(path: path, key: "model_type", reason: "'\(type)' is not a GPT-2 model")
        }
        func integer(_ key: String, default fallback: Int? = nil) throws -> Int {
            guard let raw = json[key], !(raw is NSNull) else {
                if let fallback { return fallback }
                throw ModelError.invalidConfig(path: path, key: key, reason: "missing")
            }
            guard let number = raw as? NSNumber, let value = Int(exactly: number.doubleValue), value > 0 else {
                throw ModelError.invalidConfig(path: path, key: key, reason: "\(raw) is not a positive integer")
            }
            return value
        }
        func flag(_ key: String, default fallback: Bool) throws -> Bool {
            guard let raw = json[key], !(raw is NSNull) else { return fallback }
            guard let value = raw as? Bool else {
                throw ModelError.invalidConfig(path: path, key: key, reason: "\(raw) is not true or false")
            }
            return value
        }
        let width = try integer("n_embd")
        let heads = try integer("n_head")
        guard width % heads == 0 else {
            throw ModelError.invalidConfig(path: path, key: "n_head", reason: "n_embd \(width) is not divisible by n_head \(heads)")
        }
        let activationName = (json["activation_function"] as? String) ?? "gelu_new"
        guard let activation = activationNames[activationName] else {
            throw ModelError.invalidConfig(
                path: path, key: "activation_function",
                reason: "'\(activationName)' is not supported (one of \(activationNames.keys.sorted().joined(separator: ", ")))")
        }
        var epsilon: Float = 1e-5
        if let raw = json["layer_norm_epsilon"], !(raw is NSNull) {
            guard let number = raw as? NSNumber, number.doubleValue > 0 else {
                throw ModelError.invalidConfig(path: path, key: "layer_norm_epsilon", reason: "\(raw) is not a positive number")
            }
            epsilon = number.floatValue
        }
        return GPT2Config(
            vocabularySize: try integer("vocab_size"),
            contextLength: try integer("n_positions", default: 1024),
            width: width,
            heads: heads,
            layers: try integer("n_layer"),
            mlpWidth: try integer("n_inner", default: 4 * width),
            layerNormEpsilon: epsilon,
            activation: activation,
            scaleAttentionWeights: try flag("scale_attn_weights", default: true),
            scaleAttentionByInverseLayerIndex: try flag("scale_attn_by_inverse_layer_idx", default: false),
            tiedUnembedding: try flag("tie_word_embeddings", default: true))
    }
}
