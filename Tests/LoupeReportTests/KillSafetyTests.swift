import Foundation
import LoupeFindings
import LoupeReport
import Testing

/// `loupe build` killed with SIGKILL during the store sweep, during the statistics and while the
/// pages are written: the previous site stays whole, and the next build finishes, reusing the store
/// and findings that were saved. What a build saves is keyed by the inputs it depends on.
@Suite(.serialized) struct KillSafetyTests {
    /// A `loupe build` of `spec` running with its stderr in a file.
    private final class RunningBuild {
        let process = Process()
        let log: URL

        init(spec: URL) throws {
            let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let candidates = [folder.appendingPathComponent("loupe"), Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("loupe")]
            guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates[0].path])
            }
            process.executableURL = executable
            process.arguments = ["build", spec.path]
            log = spec.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("build-\(UUID().uuidString).log")
            try Data().write(to: log)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
        }

        /// Waits until `condition` holds (checked every 5 ms) and kills the build then; fails if the
        /// build ends first.
        func kill(when condition: () -> Bool) throws {
            while !condition() {
                try #require(process.isRunning, "the build ended before it could be killed: \(stderr)")
                usleep(5_000)
            }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
        }

        func finish() -> Int32 {
            process.waitUntilExit()
            return process.terminationStatus
        }

        var stderr: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    }

    private func names(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test func killedBuildsLeaveTheSiteWholeAndResume() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 100))
        defer { ReportFixtures.remove(report) }
        let spec = report.appendingPathComponent("report.yaml")
        let findings = report.appendingPathComponent("findings")
        let work = findings.appendingPathComponent("work")
        let site = report.appendingPathComponent("site")
        let first = try RunningBuild(spec: spec)
        #expect(first.finish() == 0, "\(first.stderr)")
        let previous = try ReportFixtures.files(site)
        // A changed spec: the findings must be computed again.
        try (String(contentsOf: spec, encoding: .utf8) + "\n# changed\n").write(to: spec, atomically: true, encoding: .utf8)
        func stores() -> [String] { names(work).filter { $0.hasPrefix("store-") } }
        func storeComplete() -> Bool { stores().contains { FileManager.default.fileExists(atPath: work.appendingPathComponent("\($0)/manifest.json").path) } }

        // During the sweep: the store's folder exists, its manifest not yet.
        try RunningBuild(spec: spec).kill { !stores().isEmpty && !storeComplete() }
        #expect(try ReportFixtures.files(site) == previous)

        // During the statistics: the store is complete, the atlas not yet saved.
        try RunningBuild(spec: spec).kill { storeComplete() }
        #expect(!names(work).contains { $0.hasPrefix("atlas-") })
        #expect(try ReportFixtures.files(site) == previous)

        // While the pages are written: the findings are saved, the staging folder fills.
        let third = try RunningBuild(spec: spec)
        try third.kill { names(report).contains { $0.hasPrefix(".site.staging-") } }
        #expect(third.stderr.contains("reusing the activation store of an unfinished build"))
        #expect(try ReportFixtures.files(site) == previous)
        #expect(names(findings).filter { $0.hasPrefix("findings-") }.count == 1)

        let last = try RunningBuild(spec: spec)
        #expect(last.finish() == 0, "\(last.stderr)")
        #expect(last.stderr.contains("inputs unchanged: reusing"))
        #expect(!FileManager.default.fileExists(atPath: work.path))
        let resumed = try ReportFixtures.files(site)

        // The same as a build that was never interrupted.
        let (status, text) = try ReportLibraryTests().runLoupe(["build", spec.path, "--force", "--quiet"])
        #expect(status == 0, "\(text)")
        #expect(try ReportFixtures.files(site) == resumed)
        #expect(names(report).allSatisfy { !$0.hasPrefix(".site.") })
    }

    @Test func aChangedInputInvalidatesWhatDependsOnIt() throws {
        // A decoder that does not load makes every build fail after the atlases, which stay saved.
        let neighbourhoods = """
            neighbourhoods:
              decoder: broken-decoder
              epsilon: 0.45
              sites:
                - {hook: blocks.1.hook_resid_mid, queries: [{text: "c b e b b | b :", position: -1}]}
            """
        let spec = try ReportFixtures.demoSpec(documents: 12, neighbourhoods: neighbourhoods)
            .replacingOccurrences(of: "atlas: {", with: "  - {hook: blocks.1.hook_mlp_out, neurons: true}\natlas: {")
        let report = try ReportFixtures.report(spec: spec)
        defer { ReportFixtures.remove(report) }
        try FileManager.default.createDirectory(at: report.appendingPathComponent("broken-decoder"), withIntermediateDirectories: true)
        try Data("{".utf8).write(to: report.appendingPathComponent("broken-decoder/config.json"))
        let specURL = report.appendingPathComponent("report.yaml")

        /// The notes of a build that fails at the decoder.
        func failingBuild() throws -> [String] {
            var notes: [String] = []
            let spec = try ReportSpec.load(url: specURL)
            #expect(throws: BuildError.self) {
                _ = try Report.build(spec: spec) { event in if case let .note(_, text) = event { notes.append(text) } }
            }
            return notes
        }
        let dictionaryHook = "reusing the atlas of blocks.2.hook_resid_post"
        let neuronHook = "reusing the atlas of blocks.1.hook_mlp_out"
        let store = "reusing the activation store"
        func has(_ notes: [String], _ text: String) -> Bool { notes.contains { $0.hasPrefix(text) } }

        let fresh = try failingBuild()
        #expect(!has(fresh, store) && !has(fresh, dictionaryHook) && !has(fresh, neuronHook))
        let again = try failingBuild()
        #expect(has(again, store) && has(again, dictionaryHook) && has(again, neuronHook))

        // The dictionary's files: only its atlas is computed again.
        let config = report.appendingPathComponent("dictionary/cfg.json")
        try (Data(contentsOf: config) + Data("\n".utf8)).write(to: config)
        let dictionaryChanged = try failingBuild()
        #expect(has(dictionaryChanged, store) && !has(dictionaryChanged, dictionaryHook) && has(dictionaryChanged, neuronHook))

        // The atlas options: both atlases, not the store.
        let text = try String(contentsOf: specURL, encoding: .utf8)
        try text.replacingOccurrences(of: "top_examples: 20", with: "top_examples: 12").write(to: specURL, atomically: true, encoding: .utf8)
        let optionsChanged = try failingBuild()
        #expect(has(optionsChanged, store) && !has(optionsChanged, dictionaryHook) && !has(optionsChanged, neuronHook))

        // The corpus: everything.
        try String(contentsOf: specURL, encoding: .utf8).replacingOccurrences(of: "seed: 7}", with: "seed: 8}")
            .write(to: specURL, atomically: true, encoding: .utf8)
        let corpusChanged = try failingBuild()
        #expect(!has(corpusChanged, store) && !has(corpusChanged, dictionaryHook) && !has(corpusChanged, neuronHook))
        let work = report.appendingPathComponent("findings/work")
        #expect(names(work).filter { $0.hasPrefix("store-") }.count == 1)
    }
}
