import Foundation
@testable import LoupeAnalysis
import LoupeFindings
import Testing
@testable import LoupeReport

/// Findings and atlas checkpoints written feature by feature are the bytes of the whole value encoded
/// at once, and read back.
@Suite struct FindingsCacheTests {
    @Test func streamedFindingsAreTheBytesOfTheWholeEncoding() throws {
        var findings = ReportSummaryTests().findings(explanation: "a \"features\":[] lookalike, \\ and </script>")
        let first = findings.dictionaries[0]
        var second = first
        second.id = "g-topk"
        second.features = (0..<3).map { index in
            var feature = first.features[0]
            feature.index = index
            return feature
        }
        var empty = first
        empty.id = "e-neurons"
        empty.features = []
        findings.dictionaries = [first, empty, second]
        findings.circuits = CircuitFindings(tasks: [])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-findings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = FindingsCache(directory: directory)
        try cache.store(findings, fingerprint: "abc")
        let written = try Data(contentsOf: cache.file(fingerprint: "abc"))
        #expect(written == (try JSONWriter.encode(findings)))
        #expect(cache.findings(fingerprint: "abc") == findings)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["findings-abc.json"])
    }

    @Test func atlasCheckpointsAreTheBytesOfTheWholeEncoding() throws {
        let feature = ReportSummaryTests().findings(explanation: "a \"features\":[] lookalike").dictionaries[0].features[0]
        let window = ScoredWindow(document: 3, start: 5, tokens: [7, 9], activations: [0, 1.5])
        let atlas = AtlasResult(
            features: [feature, feature],
            exampleSets: [
                FeatureExampleSets(explanation: [window], heldOutActivating: [window, window], heldOutNonActivating: []),
                FeatureExampleSets(explanation: [], heldOutActivating: [], heldOutNonActivating: [window]),
            ],
            tokens: 42)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-work-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoints = BuildCheckpoints(directory: directory)
        try checkpoints.save(atlas, key: "k")
        #expect(try Data(contentsOf: directory.appendingPathComponent("atlas-k.json")) == (try JSONWriter.encode(atlas)))
        #expect(checkpoints.atlas(key: "k") == atlas)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["atlas-k.json"])
    }
}
