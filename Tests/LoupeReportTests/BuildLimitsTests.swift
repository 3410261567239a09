import Foundation
import LoupeReport
import Testing

/// The `limits:` section: a build above a limit stops before the work it bounds, naming the file or
/// hook, the figure and the key that raises it.
struct BuildLimitsTests {
    /// A report reading `corpus` (lines of a `.txt` file) with the spec's `limits:` line.
    private func report(corpus: String, limits: String) throws -> (URL, ReportSpec) {
        let spec = try ReportFixtures.demoSpec(documents: 4)
            .replacingOccurrences(of: "toy_world: {documents: 4, seed: 7}", with: "files: [corpus.txt]") + "\n" + limits + "\n"
        let report = try ReportFixtures.report(spec: spec)
        try Data(corpus.utf8).write(to: report.appendingPathComponent("corpus.txt"))
        return (report, try ReportSpec.load(url: report.appendingPathComponent("report.yaml")))
    }

    private func failure(_ spec: ReportSpec) throws -> BuildError {
        let error = #expect(throws: BuildError.self) { _ = try Report.build(spec: spec, force: true) }
        return try #require(error)
    }

    @Test func fileBytes() throws {
        let (report, spec) = try report(corpus: "c b e b b | b :\nd f d g | g :\n", limits: "limits: {file_bytes: 20}")
        defer { ReportFixtures.remove(report) }
        let error = try failure(spec)
        #expect(error.path.hasSuffix("corpus.txt"))
        #expect(error.reason.contains("is 30 bytes, above the 20") && error.reason.contains("raise limits.file_bytes in report.yaml"))
    }

    @Test func documentTokens() throws {
        let (report, spec) = try report(corpus: "c b :\nd f d g c e d g | g :\n", limits: "limits: {document_tokens: 5}")
        defer { ReportFixtures.remove(report) }
        let error = try failure(spec)
        #expect(error.step == .corpus && error.path.hasSuffix("corpus.txt"))
        #expect(error.reason.contains("line 2 is a document of 11 tokens, above limits.document_tokens (5)"), "\(error.reason)")
        #expect(error.reason.contains("raise limits.document_tokens"))
    }

    @Test func featuresPerPage() throws {
        let (report, spec) = try report(corpus: "c b :\n", limits: "limits: {features_per_page: 100}")
        defer { ReportFixtures.remove(report) }
        let error = try failure(spec)
        #expect(error.reason.contains("key 'hooks[0]': blocks.2.hook_resid_post has 512 features, above limits.features_per_page (100)"))
    }

    @Test func limitsAreReadAndChecked() throws {
        let (report, spec) = try report(corpus: "c b :\n", limits: "limits: {document_tokens: 7}")
        defer { ReportFixtures.remove(report) }
        #expect(spec.limits.documentTokens == 7 && spec.limits.fileBytes == BuildLimits().fileBytes)
        let url = report.appendingPathComponent("report.yaml")
        try (String(contentsOf: url, encoding: .utf8) + "  memory: 3\n").write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: BuildError.self) { try ReportSpec.load(url: url) }
    }
}
