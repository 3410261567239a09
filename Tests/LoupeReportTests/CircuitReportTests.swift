import Foundation
import LoupeFindings
import LoupeReport
import Testing

/// A report with a `circuits:` section built through the library: the findings of one toy task with
/// two methods and a ground truth, the step's events, and the ground-truth file in the fingerprint.
@Suite(.serialized) struct CircuitReportTests {
    func build(_ report: URL) throws -> (ReportFindings, [BuildEvent]) {
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        var events: [BuildEvent] = []
        let findings = try Report.build(spec: spec, environment: [:], progress: { events.append($0) })
        return (findings, events)
    }

    func startedSteps(_ events: [BuildEvent]) -> [BuildStep] {
        events.compactMap { if case let .started(step, _, _, _) = $0 { return step } else { return nil } }
    }

    @Test func aCircuitTaskWithTwoMethodsAndAGroundTruth() throws {
        // The ground truth is a copy of the demo's, so that the test can edit it.
        let placeholder = "GROUND_TRUTH"
        var report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(
            documents: 40, circuits: "circuits: {tasks: [{task: docstring, ground_truth: \(placeholder)}], methods: [patching, eap], examples: 8}"))
        defer { ReportFixtures.remove(report) }
        report = report.standardizedFileURL
        let truth = report.deletingLastPathComponent().appendingPathComponent("docstring-truth.json")
        try FileManager.default.copyItem(at: ReportFixtures.demo.appendingPathComponent("circuits/docstring.json"), to: truth)
        let specURL = report.appendingPathComponent("report.yaml")
        let spec = try String(contentsOf: specURL, encoding: .utf8)
        try Data(spec.replacingOccurrences(of: placeholder, with: truth.path).utf8).write(to: specURL)

        let (findings, events) = try build(report)
        let hook = "blocks.2.hook_resid_post"
        #expect(startedSteps(events).contains(.circuit(task: "docstring")))
        #expect(startedSteps(events).last == .circuit(task: "docstring"))
        let circuits = try #require(findings.circuits)
        #expect(circuits.tasks.count == 1)
        let task = circuits.tasks[0]
        #expect(task.task == "docstring" && task.slug == "docstring")
        #expect(task.pairs == 8)
        #expect(task.ablation == .mean)
        #expect(task.cleanMetric != task.corruptedMetric)
        #expect(task.prompts.count == 3)

        let nodes = findings.model.layers * (findings.model.heads + 1)
        #expect(task.methods.map(\.method) == ["patching", "eap"])
        for method in task.methods {
            #expect(method.nodes.count == nodes, "\(method.method)")
            #expect(method.nodeAUC != nil, "\(method.method)")
            #expect(method.faithfulness.count == nodes + 1, "\(method.method)")
            #expect(abs(method.faithfulness[nodes] - 1) <= 1e-9, "\(method.method)")
            // The default size: the smallest circuit reaching 0.8.
            #expect(method.circuit.count == method.circuitSize)
            #expect(method.circuitFaithfulness == method.faithfulness[method.circuitSize])
            #expect(method.circuitFaithfulness >= 0.8 || method.circuitSize == nodes)
            #expect(method.faithfulness.prefix(method.circuitSize).allSatisfy { $0 < 0.8 })
            #expect(!method.roc.isEmpty)
        }
        #expect(task.methods[0].edges.isEmpty && !task.methods[1].edges.isEmpty)
        #expect(task.methods[1].edgeAUC == nil, "the ground truth lists no edges")

        let groundTruth = try #require(task.groundTruth)
        #expect(groundTruth.nodes == ["m0", "a2.h0", "m3"])
        #expect(groundTruth.drops.map(\.id) == groundTruth.nodes)
        #expect(groundTruth.faithfulness > groundTruth.completeness)
        #expect(groundTruth.source.hasPrefix("loupe circuit-truth"))

        #expect(task.heads.count == findings.model.layers * findings.model.heads)
        #expect(task.heads.map(\.id) == (0..<findings.model.layers).flatMap { l in (0..<findings.model.heads).map { "a\(l).h\($0)" } })
        let dictionary = try #require(findings.dictionaries.first?.id)
        #expect(dictionary == "\(hook)-topk")
        for head in task.heads {
            #expect(head.patterns.count == 3, "\(head.id)")
            // The dictionary reads the residual stream after layer 2: it describes the heads of layers 0–2.
            if head.layer <= 2 {
                #expect(!head.features.isEmpty, "\(head.id)")
                #expect(head.features.allSatisfy { $0.dictionary == dictionary && $0.weight > 0 }, "\(head.id)")
            } else {
                #expect(head.features.isEmpty, "\(head.id)")
            }
        }

        // Unchanged inputs: the cached findings, no step runs.
        let (cached, cachedEvents) = try build(report)
        #expect(startedSteps(cachedEvents).isEmpty)
        #expect(cached == findings)

        // A different ground truth is a different input: the build runs again and uses it.
        let text = try String(contentsOf: truth, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "\"a2.h0\",\n    \"m3\"", with: "\"a2.h0\"")
        #expect(edited != text)
        try Data(edited.utf8).write(to: truth)
        let (rebuilt, rebuiltEvents) = try build(report)
        #expect(startedSteps(rebuiltEvents).contains(.circuit(task: "docstring")))
        #expect(rebuilt.circuits?.tasks[0].groundTruth?.nodes == ["m0", "a2.h0"])
    }
}
