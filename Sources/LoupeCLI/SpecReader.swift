import Foundation
import Yams

/// Reads typed values from a parsed YAML mapping and reports problems by their dotted key
/// (e.g. `training.learning_rate`), rejecting keys it does not know.
struct SpecReader {
    let path: String
    let prefix: String
    let mapping: [String: Any]

    /// Parses the YAML file at `url` into its top-level mapping.
    static func load(url: URL) throws -> SpecReader {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw CLIError.unreadableInput(path: url.path, reason: (error as NSError).localizedDescription)
        }
        let parsed: Any?
        do {
            parsed = try Yams.load(yaml: text)
        } catch let error as YamlError {
            throw CLIError.invalidSpec(path: url.path, key: nil, reason: "not valid YAML: \(Self.describe(error))")
        } catch {
            throw CLIError.invalidSpec(path: url.path, key: nil, reason: "not valid YAML")
        }
        guard let mapping = parsed as? [String: Any] else {
            throw CLIError.invalidSpec(path: url.path, key: nil, reason: "the top level must be a mapping of keys to values")
        }
        return SpecReader(path: url.path, prefix: "", mapping: mapping)
    }

    private static func describe(_ error: YamlError) -> String {
        let text = "\(error)"
        return text.split(separator: "\n").first.map(String.init) ?? text
    }

    private func key(_ name: String) -> String { prefix + name }

    private func fail(_ name: String, _ reason: String) -> CLIError {
        .invalidSpec(path: path, key: key(name), reason: reason)
    }

    /// Throws for any key not in `known`.
    func rejectUnknownKeys(_ known: Set<String>) throws {
        if let unknown = mapping.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail(unknown, "unknown key (expected one of \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// The nested mapping `name` (empty when absent).
    func section(_ name: String) throws -> SpecReader {
        guard let value = mapping[name] else { return SpecReader(path: path, prefix: key(name) + ".", mapping: [:]) }
        guard let nested = value as? [String: Any] else { throw fail(name, "must be a mapping") }
        return SpecReader(path: path, prefix: key(name) + ".", mapping: nested)
    }

    func integer(_ name: String, default fallback: Int? = nil, range: ClosedRange<Int> = 1...Int.max) throws -> Int {
        guard let value = mapping[name] else {
            if let fallback { return fallback }
            throw fail(name, "missing")
        }
        guard let number = value as? Int else { throw fail(name, "'\(value)' is not a whole number") }
        guard range.contains(number) else { throw fail(name, "\(number) is outside \(range.lowerBound)…\(range.upperBound == Int.max ? "" : String(range.upperBound))") }
        return number
    }

    func number(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws -> Double {
        guard let value = mapping[name] else { return fallback }
        let number: Double
        if let double = value as? Double { number = double } else if let int = value as? Int { number = Double(int) } else {
            throw fail(name, "'\(value)' is not a number")
        }
        guard range.contains(number) else { throw fail(name, "\(number) is outside \(range.lowerBound)…\(range.upperBound)") }
        return number
    }

    func string(_ name: String, default fallback: String? = nil, allowed: [String]? = nil) throws -> String {
        guard let value = mapping[name] else {
            if let fallback { return fallback }
            throw fail(name, "missing")
        }
        guard let text = value as? String, !text.isEmpty else { throw fail(name, "'\(value)' is not a non-empty string") }
        if let allowed, !allowed.contains(text) {
            throw fail(name, "'\(text)' is not one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    /// Raises a spec error for `name` with `reason` (for checks across several keys).
    func invalid(_ name: String, _ reason: String) -> CLIError { fail(name, reason) }
}
