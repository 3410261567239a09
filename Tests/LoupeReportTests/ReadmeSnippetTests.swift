import Testing

// The README's "Use Loupe from Swift" example, verbatim from here to the end marker (a test checks
// that README.md holds exactly these lines), so the example is compiled and run with the tests.
// README example begins
import Foundation
import LoupeReport

/// Builds the report whose spec is at `path` (reusing cached findings when its inputs are
/// unchanged), writes its site, and returns the site's index page.
func buildReport(at path: String) throws -> URL {
    let spec = try ReportSpec.load(url: URL(fileURLWithPath: path))
    let findings = try Report.build(spec: spec) { event in
        if case let .note(step, message) = event { print("\(step): \(message)") }
    }
    for atlas in findings.dictionaries {
        let explained = atlas.features.filter { $0.explanation != nil }.count
        print("\(atlas.hook): \(atlas.width) features, \(explained) explained")
    }
    try Report.render(findings: findings, title: spec.title, to: spec.siteDirectory)
    return spec.siteDirectory.appendingPathComponent("index.html")
}
// README example ends

@Suite struct ReadmeSnippetTests {
    /// The lines between the markers of this file.
    func example() throws -> String {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "// README example begins\n"))
        let end = try #require(source.range(of: "// README example ends\n"))
        return String(source[begin.upperBound..<end.lowerBound])
    }

    @Test func theReadmeShowsThisExampleVerbatim() throws {
        let readme = try String(contentsOf: ReportFixtures.repository.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + (try example()) + "```\n"))
    }

    @Test func theExampleBuildsAReport() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 30))
        defer { ReportFixtures.remove(report) }
        let index = try buildReport(at: report.appendingPathComponent("report.yaml").path)
        #expect(index.path == report.appendingPathComponent("site/index.html").standardizedFileURL.path)
        #expect(FileManager.default.fileExists(atPath: index.path))
    }
}
