import Foundation
import LoupeFindings
import Testing
@testable import LoupeReport

/// Findings written feature by feature are the bytes of the whole findings encoded at once, and read back.
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
}
