/// Errors raised by LoupeModel: model configs, weights, tokenizers and forward-pass requests.
///
/// Every case names the file (or hook, or key) involved and says what is wrong.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// A `config.json` that is missing, not JSON, or has a bad value for `key`.
    case invalidConfig(path: String, key: String?, reason: String)
    /// Weights that disagree with the config (missing tensor, wrong shape, …).
    case invalidWeights(path: String, reason: String)
    /// A tokenizer file that is missing, not JSON, or inconsistent.
    case invalidTokenizer(path: String, reason: String)
    /// A model directory without a usable tokenizer.
    case missingTokenizer(directory: String)
    /// A token id outside the vocabulary.
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    /// A sequence longer than the model's context.
    case sequenceTooLong(length: Int, maximum: Int)
    /// A hook name the model does not have.
    case unknownHook(name: String)
    /// A hook used where one row per token is needed, whose activation has none (attention scores
    /// and patterns).
    case noRowPerToken(hook: String)
    /// Token input the model cannot run (empty, ragged batch, …).
    case invalidInput(reason: String)
    /// An intervention whose tensor does not fit the hook it targets.
    case invalidIntervention(hook: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfig(path, key, reason):
            if let key { return "\(path): config key '\(key)': \(reason)" }
            return "\(path): invalid config: \(reason)"
        case let .invalidWeights(path, reason): return "\(path): weights do not fit the config: \(reason)"
        case let .invalidTokenizer(path, reason): return "\(path): invalid tokenizer: \(reason)"
        case let .missingTokenizer(directory):
            return "\(directory): no tokenizer found (expected tokenizer.json, vocab.json + merges.txt, or loupe_tokenizer.json)"
        case let .tokenOutOfRange(id, vocabularySize): return "token id \(id) is outside the vocabulary (size \(vocabularySize))"
        case let .sequenceTooLong(length, maximum): return "sequence of \(length) tokens is longer than the model's context of \(maximum)"
        case let .unknownHook(name): return "unknown hook point '\(name)'"
        case let .noRowPerToken(hook): return "hook point '\(hook)' has no row per token (attention scores and patterns are [B, H, T, T])"
        case let .invalidInput(reason): return "invalid model input: \(reason)"
        case let .invalidIntervention(hook, reason): return "intervention at '\(hook)': \(reason)"
        }
    }
}
