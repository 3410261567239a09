import Foundation
import LoupeCore
import LoupeFindings

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
        let config = try JSONObjectReader.read(
            url,
            error: { key, reason in ModelError.invalidConfig(path: path, key: key, reason: reason) },
            fileError: { problem in
                if case .notJSON = problem {
                    return ModelError.invalidConfig(path: path, key: nil, reason: "not a JSON object: \(problem.reason)")
                }
                return ModelError.invalidConfig(path: path, key: nil, reason: problem.reason)
            })
        if let type = try config.string("model_type"), type != "gpt2" {
            throw config.error("model_type", "'\(type)' is not a GPT-2 model")
        }
        func positive(_ key: String, default fallback: Int? = nil) throws -> Int {
            guard let value = try config.integer(key) ?? fallback else { throw config.error(key, "missing") }
            guard value > 0 else { throw config.error(key, "\(value) is not a positive integer") }
            return value
        }
        let width = try positive("n_embd")
        let heads = try positive("n_head")
        guard width % heads == 0 else {
            throw config.error("n_head", "n_embd \(width) is not divisible by n_head \(heads)")
        }
        let activationName = try config.string("activation_function") ?? "gelu_new"
        guard let activation = activationNames[activationName] else {
            throw config.error(
                "activation_function",
                "'\(activationName)' is not supported (one of \(activationNames.keys.sorted().joined(separator: ", ")))")
        }
        let epsilon = try config.number("layer_norm_epsilon") ?? 1e-5
        guard epsilon > 0 && epsilon.isFinite else {
            throw config.error("layer_norm_epsilon", "\(epsilon) is not a positive number")
        }
        return GPT2Config(
            vocabularySize: try positive("vocab_size"),
            contextLength: try positive("n_positions", default: 1024),
            width: width,
            heads: heads,
            layers: try positive("n_layer"),
            mlpWidth: try positive("n_inner", default: 4 * width),
            layerNormEpsilon: Float(epsilon),
            activation: activation,
            scaleAttentionWeights: try config.boolean("scale_attn_weights") ?? true,
            scaleAttentionByInverseLayerIndex: try config.boolean("scale_attn_by_inverse_layer_idx") ?? false,
            tiedUnembedding: try config.boolean("tie_word_embeddings") ?? true)
    }
}
