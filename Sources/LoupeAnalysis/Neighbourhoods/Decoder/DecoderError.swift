import LoupeModel

/// Errors raised while loading, training or sampling an inversion decoder.
///
/// Every case names the file, key or setting involved and says what is wrong.
public enum DecoderError: Error, Equatable, CustomStringConvertible {
    /// A decoder file that is missing, unreadable or inconsistent (`key` nil for the whole file).
    case invalidDecoder(path: String, key: String?, reason: String)
    /// A decoder trained on another model than the one given.
    case otherModel(decoder: String, expected: String, found: String)
    /// A site the decoder does not cover.
    case unknownSite(hook: String, head: Int?, covered: [String])
    /// A setting out of range (samples, temperatures, steps, …).
    case invalidSetting(name: String, reason: String)

    /// The decoder-file error for a model error raised while reading the decoder's `path`, its path said once.
    static func reading(_ path: String, _ error: ModelError) -> DecoderError {
        switch error {
        case let .invalidConfig(_, key, reason): return .invalidDecoder(path: path, key: key, reason: reason)
        case let .invalidWeights(_, reason): return .invalidDecoder(path: path, key: nil, reason: "weights do not fit the config: \(reason)")
        default: return .invalidDecoder(path: path, key: nil, reason: error.description)
        }
    }

    public var description: String {
        switch self {
        case let .invalidDecoder(path, key, reason):
            return "\(path)\(key.map { ": \($0)" } ?? ""): \(reason)"
        case let .otherModel(decoder, expected, found):
            return "\(decoder): the decoder was trained on the model with fingerprint \(expected), this model's is \(found)"
        case let .unknownSite(hook, head, covered):
            return "the decoder does not cover hook '\(hook)'\(head.map { " head \($0)" } ?? ""); it covers \(covered.joined(separator: ", "))"
        case let .invalidSetting(name, reason):
            return "\(name): \(reason)"
        }
    }
}
