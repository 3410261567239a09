import Foundation
import LoupeAnalysis
import LoupeFindings

/// The `circuits:` section of `report.yaml`: which tasks to analyse with which methods.
///
/// ```yaml
/// circuits:
///   tasks:                                  # toy-world task names or JSON Lines task files
///     - ioi                                 # a name alone
///     - {task: greater_than, ground_truth: circuits/greater_than.json}
///   methods: [patching, attribution, eap, eap-ig, sae-codes]   # default: all five
///   examples: 64          # pairs drawn per toy task (seeded by the report's seed)
///   size: auto            # circuit size: auto (smallest reaching `target`), a number of nodes,
///   target: 0.8           #   or `threshold: 0.05` (nodes with |score| ≥ threshold)
///   ablation: mean        # mean | resample | zero
///   ig_steps: 5
///   prepend_bos: false    # for task files
/// ```
public struct CircuitSpec: Equatable, Sendable {
    /// One task to analyse.
    public struct Task: Equatable, Sendable {
        /// A toy task's name, or the task file (absolute path).
        public var task: String
        /// A ground-truth file (`{"nodes": [...], "edges": [...]}`), when known.
        public var groundTruth: URL?
    }

    public var tasks: [Task]
    public var methods: [CircuitMethod]
    public var examples: Int
    public var size: CircuitSize
    public var ablation: CircuitAblation
    public var igSteps: Int
    public var prependBOS: Bool

    /// Reads the section; paths are relative to `base`, the spec's folder.
    static func read(_ section: SpecReader, base: URL) throws -> CircuitSpec {
        try section.rejectUnknownKeys(["tasks", "methods", "examples", "size", "target", "threshold", "ablation", "ig_steps", "prepend_bos"])
        guard let list = section.mapping["tasks"] as? [Any], !list.isEmpty else {
            throw section.invalid("tasks", "must be a non-empty list of toy task names or task files")
        }
        let toyNames = CircuitTask.toyTaskNames
        func resolve(_ name: String, key: String, reader: SpecReader) throws -> String {
            if toyNames.contains(name) { return name }
            let url = URL(fileURLWithPath: name, relativeTo: base).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw reader.invalid(key, "'\(name)' is neither a toy task (\(toyNames.joined(separator: ", "))) nor an existing file")
            }
            return url.path
        }
        let tasks = try list.enumerated().map { index, item -> Task in
            if let name = item as? String { return Task(task: try resolve(name, key: "tasks", reader: section)) }
            guard let mapping = item as? [String: Any] else {
                throw section.invalid("tasks", "entry \(index + 1) is neither a task name nor a mapping")
            }
            let entry = SpecReader(path: section.path, prefix: section.prefix + "tasks[\(index)].", mapping: mapping)
            try entry.rejectUnknownKeys(["task", "ground_truth"])
            var groundTruth: URL?
            if mapping["ground_truth"] != nil {
                let url = URL(fileURLWithPath: try entry.string("ground_truth"), relativeTo: base).standardizedFileURL
                guard FileManager.default.fileExists(atPath: url.path) else { throw entry.invalid("ground_truth", "\(url.path) does not exist") }
                groundTruth = url
            }
            return Task(task: try resolve(try entry.string("task"), key: "task", reader: entry), groundTruth: groundTruth)
        }
        var methods = CircuitMethod.allCases
        if let given = section.mapping["methods"] {
            guard let names = given as? [String], !names.isEmpty else { throw section.invalid("methods", "must be a non-empty list of method names") }
            methods = try names.map { name in
                guard let method = CircuitMethod(rawValue: name) else { throw section.invalid("methods", CircuitError.unknownMethod(name: name).description) }
                return method
            }
        }
        let size: CircuitSize
        if section.mapping["threshold"] != nil {
            guard section.mapping["size"] == nil else { throw section.invalid("threshold", "give either size or threshold") }
            size = .threshold(try section.number("threshold", default: 0, range: 0...Double.greatestFiniteMagnitude))
        } else if let fixed = section.mapping["size"] as? Int {
            guard fixed >= 1 else { throw section.invalid("size", "must be auto or a positive number of nodes") }
            size = .top(fixed)
        } else {
            _ = try section.string("size", default: "auto", allowed: ["auto"])
            size = .smallestReaching(target: try section.number("target", default: 0.8, range: 0.01...1))
        }
        return CircuitSpec(
            tasks: tasks, methods: methods, examples: try section.integer("examples", default: 64, range: 1...100_000), size: size,
            ablation: CircuitAblation(rawValue: try section.string("ablation", default: "mean", allowed: CircuitAblation.allCases.map(\.rawValue)))!,
            igSteps: try section.integer("ig_steps", default: 5, range: 1...1000),
            prependBOS: try section.boolean("prepend_bos", default: false))
    }
}
