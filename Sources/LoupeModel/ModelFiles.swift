import Foundation

/// The files of a model directory (the Hugging Face GPT-2 layout) that Loupe reads and writes.
/// Every other part of Loupe asks this type for file names instead of spelling them out.
public enum ModelFiles {
    /// `config.json`: the model's shape and numerics (`GPT2Config`).
    public static let config = "config.json"
    /// `model.safetensors`: the weights (`GPT2Weights`).
    public static let weights = "model.safetensors"
    /// `tokenizer.json`: a Hugging Face tokenizer (byte-level BPE).
    public static let tokenizerJSON = "tokenizer.json"
    /// `vocab.json` + `merges.txt`: GPT-2's original BPE files.
    public static let vocabulary = "vocab.json"
    public static let merges = "merges.txt"
    /// `tokenizer_config.json`: added tokens and `add_prefix_space` beside `vocab.json` + `merges.txt`.
    public static let tokenizerConfig = "tokenizer_config.json"
    /// `loupe_tokenizer.json`: a character- or word-level tokenizer written by Loupe.
    public static let loupeTokenizer = "loupe_tokenizer.json"

    /// Every file name that can decide what a model directory computes (config, weights, any
    /// tokenizer file), in a fixed order: the inputs a report's fingerprint covers.
    public static let all = [config, weights, tokenizerJSON, vocabulary, merges, tokenizerConfig, loupeTokenizer]
}
