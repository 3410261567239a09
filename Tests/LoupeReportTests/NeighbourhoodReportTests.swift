import Foundation
import LoupeFindings
import LoupeReport
import Testing

/// A report with a `neighbourhoods:` section built through the library with the demo decoder: text,
/// toy-task and atlas-example queries, retrieved and decoded lists, the step's events, the pages.
@Suite(.serialized) struct NeighbourhoodReportTests {
    static let section = """
        neighbourhoods:
          decoder: decoder
          epsilon: 0.45
          samples: 8
          retrieved: 5
          sites:
            - hook: blocks.3.hook_resid_post
              queries:
                - {text: "c b e b b | b :", position: -1}
                - {features: [0, 1, 2], top: 1}
            - {hook: blocks.0.attn.hook_z, head: 2, queries: [{task: ioi, examples: 1, positions: [-1, -5]}]}
        """

    @Test func sitesQueriesAndPages() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 40, neighbourhoods: Self.section))
        defer { ReportFixtures.remove(report) }
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        var events: [BuildEvent] = []
        let findings = try Report.build(spec: spec, environment: [:], progress: { events.append($0) })
        let started = events.compactMap { event -> BuildStep? in if case let .started(step, _, _, _) = event { return step } else { return nil } }
        #expect(started.contains(.neighbourhoods(site: "blocks.3.hook_resid_post")))
        #expect(started.contains(.neighbourhoods(site: "blocks.0.attn.hook_z.h2")))

        let neighbourhoods = try #require(findings.neighbourhoods)
        #expect(neighbourhoods.epsilon == 0.45 && neighbourhoods.distance == "l2")
        #expect(neighbourhoods.decoder.path == "decoder" && neighbourhoods.decoder.steps > 0)
        #expect(!neighbourhoods.decoder.lossCurve.isEmpty && neighbourhoods.decoder.lossCurve.last?.step == neighbourhoods.decoder.steps)
        #expect(neighbourhoods.sites.map(\.slug) == ["blocks.3.hook_resid_post", "blocks.0.attn.hook_z.h2"])

        let residual = neighbourhoods.sites[0]
        #expect(residual.decoderLoss.isFinite && residual.decoderLoss > 0)
        #expect(residual.queries.first?.origin == "text")
        let fromAtlas = residual.queries.dropFirst()
        #expect(!fromAtlas.isEmpty && fromAtlas.allSatisfy { $0.featureExample?.hook == "blocks.2.hook_resid_post" })
        let atlas = try #require(findings.dictionaries.first)
        for query in fromAtlas {
            let reference = try #require(query.featureExample)
            let feature = try #require(atlas.features.first { $0.index == reference.feature })
            let example = feature.topExamples[reference.example]
            #expect(query.tokens[query.position] == example.tokens[example.focus])
        }
        let head = neighbourhoods.sites[1]
        #expect(head.queries.map(\.origin) == ["ioi prompt 1, position -1", "ioi prompt 1, position -5"])
        #expect(head.queries.map(\.position) == [14, 10])

        for site in neighbourhoods.sites {
            var inside = 0
            for query in site.queries {
                #expect(query.retrieved.count == 5 && query.candidates > 0 && query.inside <= query.candidates)
                #expect(zip(query.retrieved, query.retrieved.dropFirst()).allSatisfy { $0.distance <= $1.distance })
                #expect(query.samples.count == 8)
                #expect(zip(query.samples, query.samples.dropFirst()).allSatisfy { $0.distance <= $1.distance })
                for sample in query.samples {
                    #expect(sample.tokens.count == sample.tokenIDs.count && sample.shading.count == sample.tokenIDs.count)
                    #expect(sample.positionDistances[sample.matchedPosition] == sample.distance)
                    #expect(sample.positionDistances.compactMap { $0 }.allSatisfy { $0 >= sample.distance })
                }
                inside += query.samples.filter { $0.distance <= 0.45 }.count
                if site.head == nil {
                    #expect(query.attention == nil)
                } else {
                    let attention = try #require(query.attention)
                    #expect(attention.count == query.position + 1 && abs(attention.reduce(0, +) - 1) < 1e-4)
                }
            }
            #expect(site.insideFraction == Double(inside) / Double(8 * site.queries.count))
        }

        try Report.render(findings: findings, title: spec.title, to: spec.siteDirectory)
        for path in ["neighbourhoods/index.html", "neighbourhoods/blocks.3.hook_resid_post/index.html", "neighbourhoods/blocks.3.hook_resid_post/q1.html"] {
            #expect(FileManager.default.fileExists(atPath: spec.siteDirectory.appendingPathComponent(path).path), "\(path)")
        }
    }

    @Test func aSiteTheDecoderDoesNotCoverIsNamed() throws {
        let section = Self.section.replacingOccurrences(of: "blocks.0.attn.hook_z, head: 2", with: "blocks.0.attn.hook_q, head: 2")
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 10, neighbourhoods: section))
        defer { ReportFixtures.remove(report) }
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        #expect {
            _ = try Report.build(spec: spec, environment: [:], progress: { _ in })
        } throws: { error in
            guard let error = error as? BuildError else { return false }
            return error.step == .neighbourhoods(site: "blocks.0.attn.hook_q.h2") && error.reason.contains("does not cover hook 'blocks.0.attn.hook_q'")
        }
    }
}
