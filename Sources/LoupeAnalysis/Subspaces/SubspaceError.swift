/// What can go wrong training, reading or evaluating a subspace partition.
public enum SubspaceError: Error, Equatable, CustomStringConvertible {
    /// A setting or input the training or evaluation cannot use.
    case invalidInput(reason: String)
    /// A saved rotation or partition that cannot be used.
    case invalidFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidInput(reason): return reason
        case let .invalidFile(path, reason): return "\(path): \(reason)"
        }
    }
}
