/// Errors raised while reading a circuit task or running a circuit method.
///
/// Task-file errors name the file and the 1-based line, so a user can fix the input directly.
public enum CircuitError: Error, Equatable, CustomStringConvertible {
    /// A task file that cannot be read.
    case unreadableTaskFile(path: String, reason: String)
    /// A line of a task file that is not a usable prompt pair.
    case invalidPair(path: String, line: Int, reason: String)
    /// A task file with no pair in it.
    case emptyTask(path: String)
    /// A task name that is neither a toy task nor a file.
    case unknownTask(name: String, known: [String])
    /// A method name Loupe does not know.
    case unknownMethod(name: String)
    /// An option or input the method cannot use.
    case invalidInput(reason: String)
    /// A ground-truth file that cannot be used.
    case invalidGroundTruth(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableTaskFile(path, reason): return "\(path): cannot read the task file: \(reason)"
        case let .invalidPair(path, line, reason): return "\(path):\(line): \(reason)"
        case let .emptyTask(path): return "\(path): the task file holds no prompt pair"
        case let .unknownTask(name, known):
            return "task '\(name)' is neither a toy task (\(known.joined(separator: ", "))) nor an existing .jsonl file"
        case let .unknownMethod(name):
            return "unknown circuit method '\(name)' (known: \(CircuitMethod.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .invalidInput(reason): return "circuit: \(reason)"
        case let .invalidGroundTruth(path, reason): return "\(path): not a usable ground truth: \(reason)"
        }
    }
}
