/// Errors raised by the command line itself (arguments and files it reads or writes directly).
public enum CLIError: Error, Equatable, CustomStringConvertible {
    /// An input file that cannot be read.
    case unreadableInput(path: String, reason: String)
    /// An output file that cannot be written.
    case unwritableOutput(path: String, reason: String)
    /// An option whose value is not usable.
    case invalidOption(name: String, reason: String)
    /// A spec file (YAML) with a missing, unknown or out-of-range key.
    case invalidSpec(path: String, key: String?, reason: String)

    public var description: String {
        switch self {
        case let .unreadableInput(path, reason): return "\(path): cannot read: \(reason)"
        case let .unwritableOutput(path, reason): return "\(path): cannot write: \(reason)"
        case let .invalidOption(name, reason): return "option \(name): \(reason)"
        case let .invalidSpec(path, key, reason):
            if let key { return "\(path): key '\(key)': \(reason)" }
            return "\(path): \(reason)"
        }
    }
}
