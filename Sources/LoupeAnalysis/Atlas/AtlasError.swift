/// Errors raised while computing a feature atlas.
///
/// Every case names the hook, tensor or option involved and says what is wrong.
public enum AtlasError: Error, Equatable, CustomStringConvertible {
    /// An option out of range.
    case invalidOption(name: String, reason: String)
    /// The encoder returned a tensor of the wrong shape.
    case encoderShape(hook: String, expected: [Int], found: [Int])
    /// Activations whose width is not the one the statistics were started with.
    case inputWidth(hook: String, expected: Int, found: Int)
    /// Decoder directions whose shape does not fit the dictionary.
    case decoderShape(hook: String, expected: [Int], found: [Int])
    /// Decoder directions whose width is not the model's residual width (for logit effects).
    case modelWidth(hook: String, decoderWidth: Int, modelWidth: Int)
    /// Two partial results that cannot be merged (different dictionaries, options or maxima).
    case incompatibleShards(reason: String)
    /// A shard's saved statistics that cannot be read or written.
    case unreadableShard(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, reason):
            return "atlas option '\(name)': \(reason)"
        case let .encoderShape(hook, expected, found):
            return "hook '\(hook)': the encoder returned shape \(found), expected \(expected)"
        case let .inputWidth(hook, expected, found):
            return "hook '\(hook)': activations are \(found) wide, expected \(expected)"
        case let .decoderShape(hook, expected, found):
            return "hook '\(hook)': decoder directions have shape \(found), expected \(expected) (features × input width)"
        case let .modelWidth(hook, decoderWidth, modelWidth):
            return "hook '\(hook)': decoder directions are \(decoderWidth) wide but the model's residual stream is \(modelWidth) wide"
        case let .incompatibleShards(reason):
            return "cannot merge partial atlas statistics: \(reason)"
        case let .unreadableShard(path, reason):
            return "\(path) \(reason)"
        }
    }
}
