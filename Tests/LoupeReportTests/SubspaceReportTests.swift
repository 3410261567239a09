import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeReport
import Testing

/// A report with a `subspaces:` section: NDM trained on the report's store, saved, then reused; the
/// causal check with its baselines, the neighbours inside each subspace, the pages and the summary;
/// `loupe subspaces` on its own.
@Suite(.serialized) struct SubspaceReportTests {
    static let section = """
        subspaces:
          sites:
            - {hook: blocks.0.hook_resid_post, path: subspaces/resid0, block_size: 32, steps: 24, merge_every: 8, samples: 1024, batch_size: 64, buffer_size: 256}
          tasks: [ioi]
          examples: 8
          queries: 2
          neighbours: 5
        """

    @Test func trainsSavesReusesAndRenders() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 40, subspaces: Self.section))
        defer { ReportFixtures.remove(report) }
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        var events: [BuildEvent] = []
        let findings = try Report.build(spec: spec, environment: [:], progress: { events.append($0) })
        let started = events.compactMap { event -> BuildStep? in if case let .started(step, _, _, _) = event { return step } else { return nil } }
        #expect(started.contains(.subspaces(site: "blocks.0.hook_resid_post")))

        // The partition's files, in the contract's format.
        let folder = report.appendingPathComponent("subspaces/resid0")
        for name in ["rotation.safetensors", "partition.json", "training_log.csv", "merging.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
        }
        let partitionJSON = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("partition.json"))) as? [String: Any])
        #expect(Set(partitionJSON.keys) == ["site", "blocks"])
        #expect(partitionJSON["site"] as? String == "blocks.0.hook_resid_post")
        let blocks = try #require(partitionJSON["blocks"] as? [[Int]])
        #expect(blocks.flatMap { $0 }.sorted() == Array(0..<128))
        let rotation = try SafetensorsFile(url: folder.appendingPathComponent("rotation.safetensors")).tensor("rotation", shape: [128, 128])
        #expect(OrthogonalMatrix.deviation(rotation) < 1e-5)
        let log = try String(contentsOf: folder.appendingPathComponent("training_log.csv"), encoding: .utf8).split(separator: "\n")
        #expect(log.first == "step,loss,blocks,gradient_norm" && log.count == 25)

        let s = try #require(findings.subspaces)
        #expect(s.similarity == 0.85)
        let site = try #require(s.sites.first)
        #expect(site.slug == "blocks.0.hook_resid_post" && site.width == 128 && site.path == "subspaces/resid0")
        #expect(site.subspaces.map(\.size) == blocks.map(\.count))
        #expect(site.training.steps == 24 && site.training.samples == 1024 && site.training.rounds.count == 2)
        #expect(abs(site.subspaces.map(\.variance).reduce(0, +) - 1) < 1e-6)
        let task = try #require(site.tasks.first)
        #expect(task.task == "ioi" && task.pairs == 8 && task.cleanMetric > task.corruptedMetric)
        #expect(task.bases.map(\.basis) == ["ndm", "identity", "random", "pca"])
        for basis in task.bases {
            #expect(basis.effects.count == site.subspaces.count && basis.gini >= 0 && basis.gini < 1)
            #expect(basis.gini == SubspacePatching.gini(basis.effects))
        }
        #expect(site.subspaces.map { $0.effects[0] } == task.bases[0].effects)
        for block in site.subspaces {
            #expect(block.queries.count == 2)
            for query in block.queries {
                #expect(query.query.tokens.indices.contains(query.query.index) && query.query.similarity == 1)
                #expect(query.neighbours.count == min(5, query.inside) && query.inside <= query.compared)
                #expect(query.neighbours.allSatisfy { $0.similarity >= 0.85 })
                #expect(zip(query.neighbours, query.neighbours.dropFirst()).allSatisfy { $0.similarity >= $1.similarity })
                #expect(query.shared.allSatisfy { $0.support.contains("above the threshold") })
            }
        }

        try Report.render(findings: findings, title: spec.title, to: spec.siteDirectory)
        let slug = "subspaces/blocks.0.hook_resid_post/"
        for path in ["subspaces/index.html", slug + "index.html"] + site.subspaces.map({ slug + "s\($0.number).html" }) {
            #expect(FileManager.default.fileExists(atPath: spec.siteDirectory.appendingPathComponent(path).path), "\(path)")
        }
        let index = try String(contentsOf: spec.siteDirectory.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(index.contains("href=\"subspaces/index.html\""))
        let summary = try String(contentsOf: spec.siteDirectory.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("## Subspaces") && summary.contains("the largest effect is [s"))

        // A second build reuses the saved partition: same files, same findings.
        let before = try ReportFixtures.files(folder)
        let again = try Report.build(spec: spec, force: true, environment: [:], progress: { _ in })
        #expect(try ReportFixtures.files(folder) == before)
        #expect(again.subspaces == findings.subspaces)

        // A corrupt partition is an error naming its file.
        try Data("{\"site\": \"blocks.0.hook_resid_post\", \"blocks\": [[0, 1]]}".utf8).write(to: folder.appendingPathComponent("partition.json"))
        #expect {
            try Report.build(spec: spec, force: true, environment: [:], progress: { _ in })
        } throws: { error in
            let error = error as? BuildError
            return error?.step == .subspaces(site: "blocks.0.hook_resid_post") && error!.reason.contains("partition.json")
                && error!.reason.contains("column 2 is in no block")
        }
    }

    @Test func specMistakesNameTheirKey() throws {
        for (section, expected) in [
            ("subspaces: {sites: []}", "key 'subspaces.sites'"),
            ("subspaces: {sites: [{hook: blocks.0.hook_resid_post}]}", "key 'subspaces.sites[0].path': missing"),
            ("subspaces: {sites: [{hook: h, path: p, block_size: 0}]}", "key 'subspaces.sites[0].block_size'"),
            ("subspaces: {sites: [{hook: h, path: p, samples: 100}]}", "key 'subspaces.sites[0].samples'"),
            ("subspaces: {sites: [{hook: h, path: p}], tasks: [nothing]}", "key 'subspaces.tasks'"),
            ("subspaces: {sites: [{hook: h, path: p, wrong: 1}]}", "key 'subspaces.sites[0].wrong': unknown key"),
        ] {
            let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 40, subspaces: section))
            defer { ReportFixtures.remove(report) }
            #expect {
                try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
            } throws: { error in
                (error as? BuildError)?.reason.hasPrefix(expected) == true
            }
        }
    }

    @Test func commandTrainsAndChecks() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 40))
        defer { ReportFixtures.remove(report) }
        let specURL = report.appendingPathComponent("subspaces.yaml")
        try Data("""
            model: model
            corpus: {toy_world: {documents: 40, seed: 7}, context: 64}
            site: blocks.1.hook_resid_post
            output: learned
            block_size: 64
            steps: 6
            merge_every: 3
            samples: 600
            batch_size: 32
            buffer_size: 128
            seed: 2
            tasks: [ioi]
            examples: 4
            """.utf8).write(to: specURL)
        let (status, stderr) = try ReportLibraryTests().runLoupe(["subspaces", specURL.path, "--quiet"])
        #expect(status == 0, "\(stderr)")
        let files = try SubspaceFiles.load(from: report.appendingPathComponent("learned"), site: "blocks.1.hook_resid_post", width: 128)
        #expect(files.record.steps <= 6 && files.record.samples == 600 && files.losses.count == files.record.steps)

        try Data("model: model\ncorpus: {toy_world: {documents: 4}}\nsite: blocks.1.hook_resid_post\nthreshold: -1\n".utf8).write(to: specURL)
        let (failed, message) = try ReportLibraryTests().runLoupe(["subspaces", specURL.path, "--quiet"])
        #expect(failed != 0 && message.contains(specURL.path) && message.contains("key 'threshold'"))
    }
}
