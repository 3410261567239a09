import ArgumentParser
import Foundation
import LoupeReport

/// `loupe merge SPEC`: combines the shards `loupe build SPEC --shard i/n` left in
/// `<report>/findings/shards/` into the report's findings and writes its site.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Combine the shards of a sharded build into the report's findings and site.",
        discussion: """
            Every shard i of n must have been computed from the current inputs with \
            'loupe build SPEC --shard i/n'; a missing or stale shard is named. The findings equal those of \
            one unsharded 'loupe build', byte for byte; the shards are removed once they are saved.
            """)

    @Argument(help: "The report spec the shards were built from.")
    var spec: String

    @OptionGroup var findingsOptions: FindingsOptions
    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let spec = try ReportSpec.load(url: URL(fileURLWithPath: self.spec))
        let printer = BuildProgressPrinter(quiet: progressOptions.quiet)
        let findings = try Report.build(spec: spec, force: findingsOptions.force, refreshLanguageModel: findingsOptions.llmRefresh,
                                        mergingShards: true, progress: printer.receive)
        try SiteOutput(spec: spec, findings: findings, printer: printer, timings: findingsOptions.timings).write()
    }
}
