import Foundation
import Testing
@testable import LoupeCLI

/// `loupe circuit-truth` in-process on the small fixture model and its text task (the demo model's
/// search takes minutes in debug builds): the written file's keys and what the search guarantees,
/// and the options' validation.
@Suite("Circuits: loupe circuit-truth")
struct CircuitTruthCommandTests {
    static let model = CircuitCommandTests.model
    static let task = CircuitCommandTests.task

    @Test(arguments: ["mean", "resample", "zero"])
    func writesTheReferenceCircuitWithItsEvidenceAndCommand(ablation: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-circuit-truth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("truth.json").path
        var command = try LoupeCommand.parseAsRoot([
            "circuit-truth", "--model", Self.model, "--task", Self.task, "--output", output, "--prepend-bos",
            "--ablation", ablation, "--quiet",
        ])
        try command.run()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any])
        #expect(Set(object.keys) == ["nodes", "edges", "faithfulness", "completeness", "drops", "command"])
        let nodes = try #require(object["nodes"] as? [String])
        #expect(try #require(object["edges"] as? [String]).isEmpty)
        // The search stops before the normalised metric falls below --keep (0.9), then below 0.85.
        let faithfulness = try #require(object["faithfulness"] as? Double)
        #expect(faithfulness >= 0.85, "\(faithfulness)")
        #expect(object["completeness"] is Double)
        let drops = try #require(object["drops"] as? [[String: Any]])
        #expect(drops.compactMap { $0["id"] as? String } == nodes)
        #expect(drops.allSatisfy { Set($0.keys) == ["id", "drop"] && $0["drop"] is Double })
        // Nodes are graph ids of the 3-layer, 4-head model, in forward order.
        let order = (0..<3).flatMap { l in (0..<4).map { "a\(l).h\($0)" } + ["m\(l)"] }
        #expect(nodes == order.filter { nodes.contains($0) } && Set(nodes).count == nodes.count)
        let recorded = try #require(object["command"] as? String)
        #expect(recorded == "loupe circuit-truth --model \(Self.model) --task \(Self.task) --output \(output) --ablation \(ablation) --keep 0.9 --examples 64 --seed 1 --prepend-bos")
    }

    @Test(arguments: [
        (["--ablation", "shuffle"], "--ablation must be one of mean, resample, zero"),
        (["--keep", "0"], "--keep must be in (0, 1]"),
        (["--keep", "1.5"], "--keep must be in (0, 1]"),
        (["--examples", "0"], "--examples must be positive"),
    ])
    func badOptionsAreValidationErrors(extra: [String], message: String) throws {
        do {
            _ = try LoupeCommand.parseAsRoot(["circuit-truth", "--model", Self.model, "--task", "docstring", "--output", "/tmp/unused.json"] + extra)
            Issue.record("accepted \(extra)")
        } catch {
            #expect(LoupeCommand.message(for: error).contains(message), "\(LoupeCommand.message(for: error))")
            #expect(LoupeCommand.exitCode(for: error) == .validationFailure)
        }
    }
}
