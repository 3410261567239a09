import Foundation
import Yams

/// Reads typed values from a parsed YAML spec (`report.yaml`, `train.yaml`) and reports problems
/// by their dotted key (e.g. `training.learning_rate`), rejecting keys it does not know. Every
/// problem is a `BuildError` of step `spec` naming the file and the key.
public struct SpecReader {
    /// The spec file.
    public let path: String
    /// The dotted key of this mapping (`""` at the top level, `"corpus."` inside `corpus`).
    public let prefix: String
    /// The mapping's values, as Yams parsed them.
    public let mapping: [String: Any]

    public init(path: String, prefix: String, mapping: [String: Any]) {
        self.path = path
        self.prefix = prefix
        self.mapping = mapping
    }

    /// Parses the YAML file at `url` into its top-level mapping.
    public static func load(url: URL) throws -> SpecReader {
        let fail = { (reason: String) in BuildError(step: .spec, path: url.path, reason: reason) }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw fail("cannot read: \((error as NSError).localizedDescription)")
        }
        let parsed: Any?
        do {
            var budget = Self.maximumNodes
            parsed = try Yams.compose(yaml: text).map { try Self.value(of: $0, budget: &budget) }
        } catch let error as YamlError {
            throw fail("not valid YAML: \(Self.describe(error))")
        } catch let problem as SpecShapeProblem {
            throw fail(problem.reason)
        } catch {
            throw fail("not valid YAML")
        }
        guard let mapping = parsed as? [String: Any] else {
            throw fail("the top level must be a mapping of keys to values")
        }
        return SpecReader(path: url.path, prefix: "", mapping: mapping)
    }

    /// Most YAML nodes a spec may expand to (aliases count each time they are used).
    static let maximumNodes = 1_000_000

    /// Why a parsed YAML document cannot be a spec.
    private struct SpecShapeProblem: Error {
        let reason: String
    }

    /// The value of `node` as `Yams.load` gives it — scalars through Yams's default constructor,
    /// sequences as arrays, mappings as `[String: Any]` (a repeated key keeps its last value) — but a
    /// mapping key that is not a plain scalar is an error, not a crash, and at most `budget` nodes are read.
    private static func value(of node: Node, budget: inout Int) throws -> Any {
        budget -= 1
        guard budget >= 0 else { throw SpecShapeProblem(reason: "more than \(maximumNodes) YAML values (are aliases nested?)") }
        switch node {
        case .scalar:
            return Constructor.default.any(from: node)
        case .sequence(let sequence):
            return try sequence.map { try value(of: $0, budget: &budget) }
        case .mapping(let mapping):
            var result: [String: Any] = [:]
            for (key, item) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw SpecShapeProblem(reason: "line \(key.mark?.line ?? 0): a key must be a plain name, not a list or a mapping")
                }
                result[scalar.string] = try value(of: item, budget: &budget)
            }
            return result
        case .alias:
            throw SpecShapeProblem(reason: "an alias that names no anchor")
        }
    }

    private static func describe(_ error: YamlError) -> String {
        let text = "\(error)"
        return text.split(separator: "\n").first.map(String.init) ?? text
    }

    private func key(_ name: String) -> String { prefix + name }

    private func fail(_ name: String, _ reason: String) -> BuildError {
        BuildError(step: .spec, path: path, reason: "key '\(key(name))': \(reason)")
    }

    /// Throws for any key not in `known`.
    public func rejectUnknownKeys(_ known: Set<String>) throws {
        if let unknown = mapping.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail(unknown, "unknown key (expected one of \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// The nested mapping `name` (empty when absent).
    public func section(_ name: String) throws -> SpecReader {
        guard let value = mapping[name] else { return SpecReader(path: path, prefix: key(name) + ".", mapping: [:]) }
        guard let nested = value as? [String: Any] else { throw fail(name, "must be a mapping") }
        return SpecReader(path: path, prefix: key(name) + ".", mapping: nested)
    }

    /// The whole number at `name` (`fallback` when absent), checked against `range`.
    public func integer(_ name: String, default fallback: Int? = nil, range: ClosedRange<Int> = 1...Int.max) throws -> Int {
        guard let value = mapping[name] else {
            if let fallback { return fallback }
            throw fail(name, "missing")
        }
        guard let number = value as? Int else { throw fail(name, "'\(value)' is not a whole number") }
        guard range.contains(number) else { throw fail(name, "\(number) is outside \(range.lowerBound)…\(range.upperBound == Int.max ? "" : String(range.upperBound))") }
        return number
    }

    /// The number at `name` (`fallback` when absent), checked against `range`.
    public func number(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws -> Double {
        guard let value = mapping[name] else { return fallback }
        let number: Double
        if let double = value as? Double { number = double } else if let int = value as? Int { number = Double(int) } else {
            throw fail(name, "'\(value)' is not a number")
        }
        guard range.contains(number) else { throw fail(name, "\(number) is outside \(range.lowerBound)…\(range.upperBound)") }
        return number
    }

    /// The non-empty string at `name` (`fallback` when absent), one of `allowed` if given.
    public func string(_ name: String, default fallback: String? = nil, allowed: [String]? = nil) throws -> String {
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

    /// `true` or `false` at `name` (`fallback` when absent).
    public func boolean(_ name: String, default fallback: Bool) throws -> Bool {
        guard let value = mapping[name] else { return fallback }
        guard let flag = value as? Bool else { throw fail(name, "'\(value)' is not true or false") }
        return flag
    }

    /// A spec error for `name` with `reason` (for checks across several keys).
    public func invalid(_ name: String, _ reason: String) -> BuildError { fail(name, reason) }
}
