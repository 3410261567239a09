/// Errors raised while reading a corpus, cutting it into windows, and building or reading an
/// activation store.
///
/// Every case names the file (and line, or hook) involved and says what is wrong, so a user can
/// fix the input without reading the code.
public enum CorpusError: Error, Equatable, CustomStringConvertible {
    /// The corpus file could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// A corpus file whose extension is neither `.txt` nor `.jsonl`.
    case unsupportedFormat(path: String, fileExtension: String)
    /// A `.jsonl` line that is not a JSON object.
    case invalidJSONLine(path: String, line: Int, reason: String)
    /// A `.jsonl` object without a string field `text`.
    case missingText(path: String, line: Int, reason: String)
    /// The corpus files hold no document (`paths` lists the files read).
    case emptyCorpus(paths: [String])
    /// A context length too small for the windows asked for.
    case invalidContextLength(contextLength: Int, reason: String)
    /// Windows that an activation store cannot hold (none, or inconsistent).
    case invalidWindows(reason: String)
    /// A hook whose activation is not one row per token (or that the model does not have).
    case unsupportedHook(name: String, reason: String)
    /// A store option out of range.
    case invalidStoreOption(name: String, reason: String)
    /// A store directory or file that cannot be written.
    case unwritableStore(path: String, reason: String)
    /// A store directory or file that is missing or does not hold what its manifest says.
    case corruptStore(path: String, reason: String)
    /// A hook the store was not built with.
    case hookNotInStore(path: String, hook: String, available: [String])
    /// An activation chunk whose row information does not match its activations.
    case invalidChunk(reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "\(path): cannot read the corpus file: \(reason)"
        case let .unsupportedFormat(path, fileExtension):
            let shown = fileExtension.isEmpty ? "no extension" : "extension '.\(fileExtension)'"
            return "\(path): corpus file has \(shown); expected .txt (one document per non-empty line) or .jsonl (one JSON object with a \"text\" string per line)"
        case let .invalidJSONLine(path, line, reason), let .missingText(path, line, reason): return "\(path):\(line): \(reason)"
        case let .emptyCorpus(paths):
            let list = paths.isEmpty ? "no files were given" : paths.joined(separator: ", ")
            return "the corpus holds no document (\(list))"
        case let .invalidContextLength(contextLength, reason): return "context length \(contextLength): \(reason)"
        case let .invalidWindows(reason): return "corpus windows: \(reason)"
        case let .unsupportedHook(name, reason): return "hook '\(name)': \(reason)"
        case let .invalidStoreOption(name, reason): return "activation store option '\(name)': \(reason)"
        case let .unwritableStore(path, reason): return "\(path): cannot write the activation store: \(reason)"
        case let .corruptStore(path, reason): return "\(path): not a valid activation store: \(reason)"
        case let .hookNotInStore(path, hook, available):
            return "\(path): the activation store has no hook '\(hook)' (it holds \(available.joined(separator: ", ")))"
        case let .invalidChunk(reason): return "activation chunk: \(reason)"
        }
    }
}
