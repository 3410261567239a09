/// Errors raised while setting up or running a preimage search (`loupe preimage`).
///
/// Every case names the hook, head, position or option involved and says what is wrong.
public enum PreimageError: Error, Equatable, CustomStringConvertible {
    /// A hook the model does not have, one without a row per token, or a head that does not fit it.
    case invalidSite(hook: String, head: Int?, reason: String)
    /// A query with no token, or more tokens than a window holds.
    case invalidQuery(reason: String)
    /// A query position outside the query's tokens.
    case positionOutOfRange(position: Int, tokens: Int)
    /// A query activation of norm zero, which neither distance can compare.
    case zeroQuery(hook: String, position: Int)
    /// An input file that cannot be read while fingerprinting it.
    case unreadableFile(path: String, reason: String)
    /// A search setting out of range (`k`, `epsilon`, the context length).
    case invalidSetting(name: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSite(hook, head, reason): "hook '\(hook)'\(head.map { " head \($0)" } ?? ""): \(reason)"
        case let .invalidQuery(reason): "query: \(reason)"
        case let .positionOutOfRange(position, tokens):
            "query position \(position) is out of range: the query has \(tokens) tokens (use 0…\(tokens - 1), or −\(tokens)…−1 from the end)"
        case let .zeroQuery(hook, position):
            "the query activation at hook '\(hook)', position \(position) is zero: distances to it are undefined"
        case let .unreadableFile(path, reason): "\(path): cannot read: \(reason)"
        case let .invalidSetting(name, reason): "\(name): \(reason)"
        }
    }
}
