import ArgumentParser
import Foundation
import LoupeFindings
import LoupeReport

/// `loupe build SPEC`: computes a report's findings (or reuses them when the inputs are unchanged)
/// and writes its static site to `<report>/site/`.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build a report: feature atlases and their static site, from a report.yaml.",
        discussion: """
            Findings are kept as JSON under <report>/findings/, named by a fingerprint of every input, so a \
            rebuild with unchanged inputs only re-renders the site. The site is written to a temporary folder \
            and swapped into <report>/site/ at the end: a failed build leaves the previous site in place.
            With --shard i/n the build computes only shard i of n (i from 0) into <report>/findings/shards/ \
            and writes no site; 'loupe merge' combines the n shards and writes the site.
            """)

    @Argument(help: "The report spec (Reports/<name>/report.yaml).")
    var spec: String

    @OptionGroup var findingsOptions: FindingsOptions

    @Option(help: ArgumentHelp(
        "Compute only shard i of n (i from 0, e.g. $SLURM_ARRAY_TASK_ID/4) for 'loupe merge'.", valueName: "i/n"))
    var shard: String?

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        do {
            if let shard { _ = try Shard(parsing: shard) }
        } catch let error as BuildError {
            throw ValidationError("--shard: \(error.reason)")
        }
    }

    func run() throws {
        let spec = try ReportSpec.load(url: URL(fileURLWithPath: self.spec))
        let printer = BuildProgressPrinter(quiet: progressOptions.quiet)
        if let shard {
            let folder = try Report.buildShard(spec: spec, shard: Shard(parsing: shard), force: findingsOptions.force, progress: printer.receive)
            if findingsOptions.timings { print(printer.timings.table(), terminator: "") }
            print(folder.path)
            return
        }
        let findings = try Report.build(spec: spec, force: findingsOptions.force, refreshLanguageModel: findingsOptions.llmRefresh,
                                        progress: printer.receive)
        try SiteOutput(spec: spec, findings: findings, printer: printer, timings: findingsOptions.timings).write()
    }
}

/// The end of a build or merge: the site rendered (timed), the timings table when asked, the
/// index's path on stdout, and the language model's accounting; exit 3 when more features than
/// `llm.max_fallback` fell back to rules.
struct SiteOutput {
    let spec: ReportSpec
    let findings: ReportFindings
    let printer: BuildProgressPrinter
    let timings: Bool

    func write() throws {
        try PhaseClock.measure("render", record: { printer.receive(.timed($0)) }) {
            try Report.render(findings: findings, title: spec.title, to: spec.siteDirectory)
        }
        if timings { print(printer.timings.table(), terminator: "") }
        print(spec.siteDirectory.appendingPathComponent("index.html").path)
        for dictionary in findings.dictionaries {
            guard let accounting = dictionary.languageModel else { continue }
            FileHandle.standardError.write(Data("\(dictionary.hook): \(LanguageModelText.sentence(accounting))\n".utf8))
        }
        let shortfalls = LanguageModelText.shortfalls(findings, maxFallback: spec.llm.maxFallback)
        guard shortfalls.isEmpty else {
            for line in shortfalls { FileHandle.standardError.write(Data("error: \(line); the site was written\n".utf8)) }
            throw ExitCode(3)
        }
    }
}

/// Shows a build's events on stderr: a progress line per long part, notes as lines of their own;
/// keeps the phases' timings.
final class BuildProgressPrinter {
    private let quiet: Bool
    private var line: ProgressLine?
    private(set) var timings = BuildTimings()

    init(quiet: Bool) {
        self.quiet = quiet
    }

    func receive(_ event: BuildEvent) {
        switch event {
        case let .started(_, label, total, unit):
            line = ProgressLine(label, total: total, unit: unit, quiet: quiet)
        case let .advanced(_, done, detail):
            line?.update(done, detail: detail)
        case .finished:
            line?.finish()
            line = nil
        case let .note(_, message):
            if !quiet { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        case let .timed(phase):
            timings.phases.append(phase)
        }
    }
}
