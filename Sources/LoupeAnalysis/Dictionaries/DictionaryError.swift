import LoupeCore

/// Errors raised while reading, using, training or evaluating a sparse dictionary.
///
/// Every case names the file (or tensor, key, hook or setting) involved and says what is wrong.
public enum DictionaryError: Error, Equatable, CustomStringConvertible {
    /// A file the dictionary directory must hold is not there (`cfg.json`, `sae_weights.safetensors`).
    case missingFile(path: String)
    /// A file that exists but cannot be read or parsed.
    case unreadableFile(path: String, reason: String)
    /// A file that cannot be written.
    case unwritableFile(path: String, reason: String)
    /// A configuration key that is missing or has an unusable value.
    case invalidConfig(path: String, key: String, reason: String)
    /// An SAE architecture Loupe does not implement.
    case unsupportedArchitecture(path: String, architecture: String)
    /// A configuration setting whose value Loupe does not implement.
    case unsupportedSetting(path: String, key: String, value: String)
    /// A weight tensor the architecture needs is not in the weights file.
    case missingTensor(path: String, tensor: String)
    /// A weight tensor whose shape disagrees with the configuration.
    case tensorShape(path: String, tensor: String, expected: [Int], found: [Int])
    /// Input activations whose last dimension is not the dictionary's input width.
    case inputWidth(source: String, expected: Int, found: [Int])
    /// Feature activations whose last dimension is not the dictionary's width.
    case featureWidth(source: String, expected: Int, found: [Int])
    /// A hook point the model does not have, or whose activations do not fit the dictionary.
    case hook(name: String, reason: String)
    /// An argument (training setting, batch, …) outside its allowed range.
    case invalidArgument(name: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path): "\(path): file not found (an SAELens dictionary directory holds cfg.json and sae_weights.safetensors)"
        case let .unreadableFile(path, reason): "\(path): cannot read: \(reason)"
        case let .unwritableFile(path, reason): "\(path): cannot write: \(reason)"
        case let .invalidConfig(path, key, reason): "\(path): key '\(key)': \(reason)"
        case let .unsupportedArchitecture(path, architecture):
            "\(path): architecture '\(architecture)' is not supported (Loupe reads standard, topk and jumprelu)"
        case let .unsupportedSetting(path, key, value): "\(path): '\(key)' = \(value) is not supported"
        case let .missingTensor(path, tensor): "\(path): tensor '\(tensor)' is missing"
        case let .tensorShape(path, tensor, expected, found): "\(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .inputWidth(source, expected, found): "\(source): shape \(found) does not end in the dictionary's input width \(expected)"
        case let .featureWidth(source, expected, found): "\(source): shape \(found) does not end in the dictionary's width \(expected)"
        case let .hook(name, reason): "hook '\(name)': \(reason)"
        case let .invalidArgument(name, reason): "\(name): \(reason)"
        }
    }

    /// A `CoreError` from reading `path`, restated as a dictionary error.
    static func reading(_ error: Error, path: String) -> DictionaryError {
        guard let core = error as? CoreError else {
            return .unreadableFile(path: path, reason: String(describing: error))
        }
        switch core {
        case let .missingTensor(file, tensor): return .missingTensor(path: file, tensor: tensor)
        case let .shapeMismatch(file, tensor, expected, found): return .tensorShape(path: file, tensor: tensor, expected: expected, found: found)
        case let .unreadableFile(file, reason): return .unreadableFile(path: file, reason: reason)
        case let .corruptSafetensors(file, reason): return .unreadableFile(path: file, reason: "not a valid safetensors file: \(reason)")
        case let .unsupportedDType(file, tensor, dtype): return .unreadableFile(path: file, reason: "tensor '\(tensor)' has dtype \(dtype), which Loupe does not read")
        default: return .unreadableFile(path: path, reason: core.description)
        }
    }
}
