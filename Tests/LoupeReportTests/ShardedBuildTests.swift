import Foundation
import LoupeFindings
import LoupeReport
import Testing

/// Sharded builds: `Report.buildShard` for every shard (once, or twice for the second round) then
/// `Report.build(mergingShards:)` give the findings and site of one unsharded build, byte for byte; `loupe merge`
/// names missing and stale shards.
@Suite(.serialized) struct ShardedBuildTests {
    /// Builds `report` unsharded, then again as `count` shards merged (in the same folder: the
    /// report's name comes from it), the shards in `secondRound` run a second time (their second
    /// pass; the merge makes the others'), and returns both findings files and sites.
    private func bothWays(_ report: URL, count: Int, secondRound: Set<Int>) throws -> (whole: [String: Data], sharded: [String: Data]) {
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        func output() throws -> [String: Data] {
            var files = try ReportFixtures.files(spec.siteDirectory).mapKeys { "site" + $0 }
            for (name, data) in try ReportFixtures.files(spec.findingsDirectory) where name.hasPrefix("/findings-") { files[name] = data }
            return files
        }
        try Report.render(findings: try Report.build(spec: spec, force: true), title: spec.title, to: spec.siteDirectory)
        let whole = try output()
        try FileManager.default.removeItem(at: spec.findingsDirectory)
        try FileManager.default.removeItem(at: spec.siteDirectory)
        for index in (0..<count).reversed() {
            try Report.buildShard(spec: spec, shard: Shard(index: index, count: count))
        }
        for index in secondRound.sorted() {
            let folder = try Report.buildShard(spec: spec, shard: Shard(index: index, count: count))
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("second-0.json").path))
        }
        try Report.render(findings: try Report.build(spec: spec, mergingShards: true), title: spec.title, to: spec.siteDirectory)
        #expect(!FileManager.default.fileExists(atPath: spec.findingsDirectory.appendingPathComponent("shards").path))
        return (whole, try output())
    }

    @Test func shardsMergedEqualOneBuild() throws {
        // A neuron hook beside the dictionary's, and neighbourhoods searched in the shards' stores read as one.
        let neighbourhoods = """
            neighbourhoods:
              decoder: decoder
              epsilon: 0.45
              samples: 2
              retrieved: 5
              sites:
                - {hook: blocks.1.hook_resid_mid, queries: [{text: "c b e b b | b :", position: -1}]}
            """
        let spec = try ReportFixtures.demoSpec(documents: 30, neighbourhoods: neighbourhoods)
            .replacingOccurrences(of: "atlas: {", with: "  - {hook: blocks.1.hook_mlp_out, neurons: true}\natlas: {")
        let report = try ReportFixtures.report(spec: spec)
        defer { ReportFixtures.remove(report) }
        let (whole, sharded) = try bothWays(report, count: 3, secondRound: [0, 2])
        #expect(whole.keys.contains { $0.hasPrefix("/findings-") } && whole.keys.contains("site/index.html"))
        #expect(whole.keys.contains { $0.hasPrefix("site/blocks.1.hook_mlp_out-neurons/") })
        #expect(whole.keys.contains { $0.hasPrefix("site/neighbourhoods/") })
        #expect(Set(sharded.keys) == Set(whole.keys))
        let differing = whole.keys.filter { whole[$0] != sharded[$0] }.sorted()
        #expect(differing.isEmpty, "differ: \(differing.prefix(5))")
    }

    @Test func moreShardsThanDocuments() throws {
        // Two documents in four shards: two shards hold no window.
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 2))
        defer { ReportFixtures.remove(report) }
        let (whole, sharded) = try bothWays(report, count: 4, secondRound: [0, 1, 2, 3])
        #expect(whole == sharded)
    }

    @Test func mergeNamesMissingAndStaleShards() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 6))
        defer { ReportFixtures.remove(report) }
        let spec = report.appendingPathComponent("report.yaml").path
        let library = ReportLibraryTests()
        let (none, noneText) = try library.runLoupe(["merge", spec, "--quiet"])
        #expect(none != 0 && noneText.contains("no finished shard") && noneText.contains("--shard i/n"))
        for index in [0, 2] {
            let (status, text) = try library.runLoupe(["build", spec, "--shard", "\(index)/3", "--quiet"])
            #expect(status == 0, "\(text)")
            #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent("findings/shards/\(index)-of-3/shard.json").path))
        }
        #expect(!FileManager.default.fileExists(atPath: report.appendingPathComponent("site").path))
        let (missing, missingText) = try library.runLoupe(["merge", spec, "--quiet"])
        #expect(missing != 0)
        #expect(missingText.contains("shard 1/3 is missing") && missingText.contains("--shard 1/3"))
        #expect(!FileManager.default.fileExists(atPath: report.appendingPathComponent("site").path))

        let (built, builtText) = try library.runLoupe(["build", spec, "--shard", "1/3", "--quiet"])
        #expect(built == 0, "\(builtText)")
        try Data("\n# changed after the shards\n".utf8).append(to: URL(fileURLWithPath: spec))
        let (stale, staleText) = try library.runLoupe(["merge", spec, "--quiet"])
        #expect(stale != 0 && staleText.contains("shards 0/3, 1/3, 2/3 were computed from other inputs"), "\(staleText)")

        for bad in ["3/3", "x", "1/0", "-1/2"] {
            let (status, text) = try library.runLoupe(["build", spec, "--shard", bad, "--quiet"])
            #expect(status != 0 && text.contains("--shard"), "\(bad): \(text)")
        }
    }
}

private extension Dictionary where Key == String {
    func mapKeys(_ transform: (String) -> String) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}

private extension Data {
    func append(to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: self)
    }
}
