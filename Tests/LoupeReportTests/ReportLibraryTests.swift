import Foundation
import LoupeFindings
import LoupeReport
import Testing

/// Reports built through the library alone: the demo's model, dictionary and spec (on a smaller
/// toy-world corpus, so the debug build stays quick), compared with the `loupe` command; the findings
/// cache; and a failing step.
@Suite(.serialized) struct ReportLibraryTests {
    /// Runs the built `loupe` executable; returns its exit status and stderr.
    func runLoupe(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [folder.appendingPathComponent("loupe"), Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("loupe")]
        let executable = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    /// Builds and renders `report` through the library, collecting the build's events.
    func build(_ report: URL, force: Bool = false) throws -> (ReportFindings, [BuildEvent]) {
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        var events: [BuildEvent] = []
        let findings = try Report.build(spec: spec, force: force, environment: [:], progress: { events.append($0) })
        try Report.render(findings: findings, title: spec.title, to: spec.siteDirectory)
        return (findings, events)
    }

    func startedSteps(_ events: [BuildEvent]) -> [BuildStep] {
        events.compactMap { if case let .started(step, _, _, _) = $0 { return step } else { return nil } }
    }

    @Test func theDemoBuiltByTheLibraryEqualsTheCommandLinesBuild() throws {
        let spec = try ReportFixtures.demoSpec(documents: 120)
        let library = try ReportFixtures.report(spec: spec), command = try ReportFixtures.report(spec: spec)
        defer {
            ReportFixtures.remove(library)
            ReportFixtures.remove(command)
        }
        let (findings, events) = try build(library)
        let hook = "blocks.2.hook_resid_post"
        #expect(startedSteps(events) == [.store, .atlas(hook: hook), .explain(hook: hook)])
        #expect(findings.schemaVersion == ReportFindings.currentSchemaVersion)
        #expect(findings.dictionaries.map(\.id) == ["\(hook)-topk"] && findings.dictionaries[0].features.count == 512)
        #expect(findings.dictionaries[0].quality != nil && findings.dictionaries[0].medianDetection != nil)

        let (status, stderr) = try runLoupe(["build", command.appendingPathComponent("report.yaml").path, "--quiet"])
        #expect(status == 0, "\(stderr)")
        let site = try ReportFixtures.files(library.appendingPathComponent("site"))
        #expect(site.keys.filter { $0.hasPrefix("/\(hook)-topk/features/") }.count == 512)
        let commandSite = try ReportFixtures.files(command.appendingPathComponent("site"))
        #expect(site == commandSite)
        let cached = try ReportFixtures.files(library.appendingPathComponent("findings")).filter { $0.key.hasPrefix("/findings-") }
        let commandCached = try ReportFixtures.files(command.appendingPathComponent("findings")).filter { $0.key.hasPrefix("/findings-") }
        #expect(cached.count == 1 && cached == commandCached)
        let timings = try JSONDecoder().decode(
            BuildTimings.self, from: try Data(contentsOf: library.appendingPathComponent("findings/timings.json")))
        #expect(timings.phases.map(\.phase).starts(with: ["inputs", "corpus", "store", "dictionary(\(hook))", "atlas(\(hook))"]))
        #expect(timings.phases.allSatisfy { $0.seconds >= 0 && $0.peakResidentBytes > 0 })
    }

    @Test func unchangedInputsReuseTheCachedFindingsWithoutRunningAnyStep() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 40))
        defer { ReportFixtures.remove(report) }
        _ = try build(report)
        // Mark the cached findings: a build that reads them shows the mark, one that recomputes does not.
        let folder = report.appendingPathComponent("findings")
        let file = try #require(
            try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).first { $0.lastPathComponent.hasPrefix("findings-") })
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("\"name\":\"report\""))
        try Data(text.replacingOccurrences(of: "\"name\":\"report\"", with: "\"name\":\"from the cache\"").utf8).write(to: file)

        let (cached, events) = try build(report)
        #expect(cached.name == "from the cache")
        #expect(startedSteps(events).isEmpty)
        #expect(events.contains { if case .note(.cache, _) = $0 { return true } else { return false } })
        let index = try String(contentsOf: report.appendingPathComponent("site/index.html"), encoding: .utf8)
        #expect(index.contains("from the cache"))

        let (forced, forcedEvents) = try build(report, force: true)
        #expect(forced.name == "report" && startedSteps(forcedEvents).contains(.store))
    }

    @Test func aFailingStepIsNamedAndTheSiteIsKept() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 40))
        defer { ReportFixtures.remove(report) }
        _ = try build(report)
        let site = try ReportFixtures.files(report.appendingPathComponent("site"))
        let config = report.appendingPathComponent("dictionary/cfg.json")
        try Data("{\"d_in\": 128, \"d_sae\": true}".utf8).write(to: config)
        #expect {
            try build(report)
        } throws: { error in
            guard let error = error as? BuildError else { return false }
            return error.step == .dictionary(hook: "blocks.2.hook_resid_post") && error.path.hasSuffix("dictionary")
                && error.reason.contains("d_sae") && "\(error)".contains("step dictionary(blocks.2.hook_resid_post)")
        }
        #expect(try ReportFixtures.files(report.appendingPathComponent("site")) == site)
    }
}
