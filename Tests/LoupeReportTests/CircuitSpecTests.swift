import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeReport
import Testing

/// The `circuits:` section of `report.yaml`: tasks by name or file with ground truths relative to the
/// spec, the defaults, and an error naming the key for every kind of mistake.
@Suite struct CircuitSpecTests {
    static let head = """
        model: model
        corpus: {files: [corpus.txt], context: 16}
        hooks:
          - hook: blocks.0.hook_resid_post
            neurons: true

        """

    static let valid = head + """
        circuits:
          tasks:
            - ioi
            - {task: docstring, ground_truth: circuits/docstring.json}
            - tasks/mine.jsonl
            - {task: tasks/mine.jsonl, ground_truth: ../elsewhere/truth.json}
        """

    /// A report folder `demo` holding the demo model (linked), a corpus, a ground-truth file and a
    /// task file, with `spec` as its spec; a sibling folder `elsewhere` holds a second ground truth.
    func load(_ spec: String) throws -> (ReportSpec?, BuildError?, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-circuit-spec-\(UUID().uuidString)")
        let directory = root.appendingPathComponent("demo")
        defer { try? FileManager.default.removeItem(at: root) }
        for folder in ["circuits", "tasks", "../elsewhere"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder).standardizedFileURL, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("model"), withDestinationURL: ReportFixtures.demo.appendingPathComponent("model"))
        try Data("one document\n".utf8).write(to: directory.appendingPathComponent("corpus.txt"))
        let truth = try Data(contentsOf: ReportFixtures.demo.appendingPathComponent("circuits/docstring.json"))
        try truth.write(to: directory.appendingPathComponent("circuits/docstring.json"))
        try truth.write(to: root.appendingPathComponent("elsewhere/truth.json"))
        try Data("{\"clean\": \"a b\", \"corrupted\": \"a c\", \"correct\": \" d\", \"wrong\": \" e\"}\n".utf8)
            .write(to: directory.appendingPathComponent("tasks/mine.jsonl"))
        let url = directory.appendingPathComponent("report.yaml")
        try Data(spec.utf8).write(to: url)
        do {
            return (try ReportSpec.load(url: url), nil, directory.standardizedFileURL)
        } catch let error as BuildError {
            return (nil, error, directory.standardizedFileURL)
        }
    }

    @Test func tasksGroundTruthsAndDefaults() throws {
        let (loaded, error, directory) = try load(Self.valid)
        #expect(error == nil, "\(String(describing: error))")
        let spec = try #require(loaded)
        let circuits = try #require(spec.circuits)
        let task = directory.appendingPathComponent("tasks/mine.jsonl").path
        #expect(circuits.tasks.map(\.task) == ["ioi", "docstring", task, task])
        #expect(circuits.tasks.map(\.groundTruth?.path) == [
            nil, directory.appendingPathComponent("circuits/docstring.json").path, nil,
            directory.deletingLastPathComponent().appendingPathComponent("elsewhere/truth.json").path,
        ])
        #expect(circuits.methods == [.patching, .attribution, .eap, .eapIG, .saeCodes])
        #expect(circuits.examples == 64)
        #expect(circuits.size == .smallestReaching(target: 0.8))
        #expect(circuits.ablation == .mean)
        #expect(circuits.igSteps == 5)
        #expect(circuits.prependBOS == false)
    }

    @Test func aSpecWithoutCircuitsHasNone() throws {
        let (loaded, error, _) = try load(Self.head)
        #expect(error == nil)
        #expect(try #require(loaded).circuits == nil)
    }

    @Test(arguments: [
        ("examples: 8\n  methods: [eap, patching]\n  size: 3\n  ablation: resample\n  ig_steps: 2\n  prepend_bos: true",
         CircuitSize.top(3), CircuitAblation.resample),
        ("threshold: 0.05\n  ablation: zero", .threshold(0.05), .zero),
        ("size: auto\n  target: 0.9", .smallestReaching(target: 0.9), .mean),
    ])
    func givenValues(extra: String, size: CircuitSize, ablation: CircuitAblation) throws {
        let (loaded, error, _) = try load(Self.head + "circuits:\n  tasks: [ioi]\n  " + extra)
        #expect(error == nil, "\(String(describing: error))")
        let spec = try #require(loaded)
        let circuits = try #require(spec.circuits)
        #expect(circuits.size == size)
        #expect(circuits.ablation == ablation)
        if extra.contains("examples: 8") {
            #expect(circuits.examples == 8 && circuits.methods == [.eap, .patching] && circuits.igSteps == 2 && circuits.prependBOS)
        }
    }

    @Test(arguments: [
        ("  tasks:", "  colour: red\n  tasks:", "key 'circuits.colour': unknown key"),
        ("  tasks:\n    - ioi\n    - {task: docstring, ground_truth: circuits/docstring.json}\n    - tasks/mine.jsonl\n    - {task: tasks/mine.jsonl, ground_truth: ../elsewhere/truth.json}",
         "  tasks: []", "key 'circuits.tasks': must be a non-empty list"),
        ("  tasks:\n    - ioi\n    - {task: docstring, ground_truth: circuits/docstring.json}\n    - tasks/mine.jsonl\n    - {task: tasks/mine.jsonl, ground_truth: ../elsewhere/truth.json}",
         "  tasks: ioi", "key 'circuits.tasks': must be a non-empty list"),
        ("    - ioi", "    - oi", "key 'circuits.tasks': 'oi' is neither a toy task"),
        ("{task: docstring,", "{task: docstrings,", "key 'circuits.tasks[1].task': 'docstrings' is neither a toy task"),
        ("{task: docstring,", "{task: docstring, truth: x,", "key 'circuits.tasks[1].truth': unknown key"),
        ("ground_truth: circuits/docstring.json", "ground_truth: circuits/missing.json", "key 'circuits.tasks[1].ground_truth':"),
        ("    - ioi", "    - [ioi]", "key 'circuits.tasks': entry 1 is neither a task name nor a mapping"),
        ("  tasks:", "  methods: [patching, magic]\n  tasks:", "key 'circuits.methods':"),
        ("  tasks:", "  methods: []\n  tasks:", "key 'circuits.methods': must be a non-empty list"),
        ("  tasks:", "  size: 3\n  threshold: 0.1\n  tasks:", "key 'circuits.threshold': give either size or threshold"),
        ("  tasks:", "  size: 0\n  tasks:", "key 'circuits.size'"),
        ("  tasks:", "  size: big\n  tasks:", "key 'circuits.size'"),
        ("  tasks:", "  target: 1.5\n  tasks:", "key 'circuits.target'"),
        ("  tasks:", "  threshold: -1\n  tasks:", "key 'circuits.threshold'"),
        ("  tasks:", "  ablation: shuffle\n  tasks:", "key 'circuits.ablation': 'shuffle' is not one of mean, resample, zero"),
        ("  tasks:", "  examples: 0\n  tasks:", "key 'circuits.examples'"),
        ("  tasks:", "  ig_steps: 0\n  tasks:", "key 'circuits.ig_steps'"),
        ("  tasks:", "  prepend_bos: maybe\n  tasks:", "key 'circuits.prepend_bos'"),
    ])
    func everyMistakeNamesItsKey(original: String, replacement: String, expected: String) throws {
        #expect(Self.valid.contains(original))
        let (loaded, error, _) = try load(Self.valid.replacingOccurrences(of: original, with: replacement))
        #expect(loaded == nil, "accepted \(replacement)")
        let failure = try #require(error)
        #expect(failure.step == .spec)
        #expect(failure.path.hasSuffix("demo/report.yaml"))
        #expect(failure.reason.contains(expected), "\(failure)")
    }

    @Test func theCircuitsSectionMustBeAMapping() throws {
        let (_, error, _) = try load(Self.head + "circuits: [ioi]\n")
        #expect(try #require(error).reason.contains("key 'circuits': must be a mapping"))
    }
}
