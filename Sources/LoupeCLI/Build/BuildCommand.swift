import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeSite

/// `loupe build SPEC`: computes a report's findings (or reuses them when the inputs are unchanged)
/// and writes its static site to `<report>/site/`.
public struct BuildCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a report: feature atlases and their static site, from a report.yaml.",
        discussion: """
            Findings are kept as JSON under <report>/findings/, named by a fingerprint of every input, so a \
            rebuild with unchanged inputs only re-renders the site. The site is written to a temporary folder \
            and swapped into <report>/site/ at the end: a failed build leaves the previous site in place.
            """)

    @Argument(help: "The report spec (Reports/<name>/report.yaml).")
    var spec: String

    @Flag(help: "Recompute the findings even when cached ones match the inputs.")
    var force = false

    @Flag(help: "No progress output.")
    var quiet = false

    public init() {}

    public func run() throws {
        let spec = try ReportSpec.load(url: URL(fileURLWithPath: self.spec))
        let build = ReportBuild(spec: spec, quiet: quiet)
        let findings = try build.findings(force: force)
        let site = spec.directory.appendingPathComponent("site")
        let summary = ReportSummary.markdown(title: spec.title, findings: findings)
        try SiteWriter(resources: .standard()).write(findings: findings, summaryMarkdown: summary, to: site)
        print(site.appendingPathComponent("index.html").path)
    }
}
