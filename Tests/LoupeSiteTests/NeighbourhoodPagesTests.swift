import Foundation
import LoupeFindings
import Testing
@testable import LoupeSite

@Suite("Neighbourhood pages")
struct NeighbourhoodPagesTests: WrittenSiteTests {
    /// The report without its neighbourhoods section.
    var withoutNeighbourhoods: ReportFindings {
        var findings = SiteFixtures.report()
        findings.neighbourhoods = nil
        return findings
    }

    /// Each `<table class="grid dists">` of a page: the classes of its body rows in order, and the
    /// distances its rows print.
    func distanceTables(_ html: String) -> [(rows: [String], distances: [Double])] {
        html.components(separatedBy: "<table class=\"grid dists\">").dropFirst().map { rest in
            let table = rest.components(separatedBy: "</table>")[0]
            let rows = table.components(separatedBy: "<tr class=\"").dropFirst().map { $0.components(separatedBy: "\"")[0] }
            let distances = table.components(separatedBy: "</svg> <span class=\"num\">").dropFirst().compactMap {
                Double($0.components(separatedBy: "<")[0])
            }
            return (rows, distances)
        }
    }

    @Test func pagesExistAtTheirPaths() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let files = Set(SiteFixtures.files(under: site))
        let sites = NeighbourhoodFixtures.findings.sites
        var expected = ["neighbourhoods/index.html"]
        for s in sites {
            expected.append("neighbourhoods/\(s.slug)/index.html")
            expected += s.queries.map { "neighbourhoods/\(s.slug)/\($0.id).html" }
        }
        for path in expected { #expect(files.contains(path), "missing \(path)") }
        #expect(files.filter { $0.hasPrefix("neighbourhoods/") }.count == expected.count)

        let index = try text(site, "neighbourhoods/index.html")
        #expect(index.contains("<dd class=\"mono\">Reports/demo/decoder</dd>"))
        #expect(index.contains("<dd>2\u{202F}000</dd>") && index.contains("<dd>64\u{202F}000 <small>activation → input</small></dd>"))
        #expect(index.contains("<dd>1.420 <small>"))
        #expect(index.contains("<svg class=\"chart line\""))
        #expect(index.contains("<a class=\"mono\" href=\"blocks.1.attn.hook_z.h0/index.html\">blocks.1.attn.hook_z</a></td><td>head 0</td><td class=\"num\">1.500</td><td class=\"num\">55.0%</td><td class=\"num\"><a href=\"blocks.1.attn.hook_z.h0/index.html\">1</a></td>"))
        #expect(index.contains("<td><span class=\"muted\">whole row</span></td><td class=\"num\">1.375</td><td class=\"num\">60.0%</td>"))

        let residual = try text(site, "neighbourhoods/blocks.1.hook_resid_post/index.html")
        for id in ["q1", "q2", "q3"] { #expect(residual.contains("<a href=\"\(id).html\">\(id)</a>")) }
        #expect(residual.contains("<td class=\"num\">62.5%</td><td>the token 1 before the matched one is “ When” &lt;b&gt;bold&lt;/b&gt; <small>29 of 31 inside ε; 4 of 33 outside</small></td>"))
        #expect(!residual.contains("the count is 3"))  // only the first statement on the site's index
    }

    @Test func theRuleAtEpsilonSeparatesInsideFromOutside() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for page in ["neighbourhoods/blocks.1.hook_resid_post/q1.html", "neighbourhoods/blocks.1.attn.hook_z.h0/q1.html"] {
            let html = try text(site, page)
            let tables = distanceTables(html)
            try #require(tables.count == 2, "\(page): retrieved and decoded tables")
            for (table, all) in zip(tables, [NeighbourhoodFixtures.retrievedDistances, NeighbourhoodFixtures.sampleDistances]) {
                let inside = all.filter { $0 <= NeighbourhoodFixtures.epsilon }.count
                #expect(table.rows == Array(repeating: "inside", count: inside) + ["eps"] + Array(repeating: "outside", count: all.count - inside), "\(page)")
                #expect(table.distances == all.sorted(), "\(page): rows ordered by distance")
            }
            #expect(html.contains("2 of 4 inside ε · 37 of 64\u{202F}000 corpus positions lie within ε"))
            #expect(html.contains("3 of 5 inside ε · 62.5% of every sample drawn for this query"))
            // Bars share one scale, max(2ε, largest distance) = 0.3: the largest is full, the tick at ε is a third.
            #expect(html.contains("<rect class=\"fill out\" width=\"96\" height=\"10\"/><path class=\"eps\" d=\"M32 0V10\"/></svg> <span class=\"num\">0.300</span>"))
            #expect(html.contains("<rect class=\"fill in\" width=\"32\" height=\"10\"/><path class=\"eps\" d=\"M32 0V10\"/></svg> <span class=\"num\">0.100</span>"))
        }
    }

    @Test func queryPositionAndMatchedPositionsAreMarked() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let residual = try text(site, "neighbourhoods/blocks.1.hook_resid_post/q1.html")
        #expect(residual.contains("<p class=\"ctx query\">&lt;bos&gt; When Mary<span class=\"f\" title=\"query position\">&lt;script&gt;alert(1)&lt;/script&gt;</span> and John</p>"))
        #expect(residual.contains("position 3 of 6 tokens (“&lt;script&gt;alert(1)&lt;/script&gt;”)"))
        // Retrieved: the window's last token is the matched one.
        #expect(residual.contains("<td class=\"ctx\">&lt;bos&gt; the cat<span class=\"f\" title=\"matched position\"> r0</span></td>"))
        // Decoded: shaded by the decoder's preference (blue up, red down), the matched position marked,
        // each position's distance on hover and none at the BOS.
        #expect(residual.contains("<td class=\"ctx\">&lt;bos&gt;<span class=\"sp4\" title=\"distance 0.420 · Δp +0.35\"> When</span><span class=\"sn6 f\" title=\"matched position · distance 0.020 · Δp −0.60\"> s1</span><span class=\"sp9\" title=\"distance 0.220 · Δp +1.00\"> went</span></td>"))
        #expect(residual.contains("<td class=\"num\">2</td><td class=\"num\">1</td><td class=\"num\">0.05</td></tr>"))  // matched, temperature, noise
        // The site's index marks the position too.
        let index = try text(site, "neighbourhoods/blocks.1.hook_resid_post/index.html")
        #expect(index.contains("<td class=\"ctx\">&lt;bos&gt; When Mary&lt;script&gt;alert(1)&lt;/script&gt; and<span class=\"f\" title=\"query position\"> John</span></td>"))
    }

    @Test func attentionShadesTheQueryOnlyAtHeadSites() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let head = try text(site, "neighbourhoods/blocks.1.attn.hook_z.h0/q1.html")
        let query = head.components(separatedBy: "<p class=\"ctx query\">")[1].components(separatedBy: "</p>")[0]
        #expect(query == "<span class=\"a1\" title=\"attention 0.050\">&lt;bos&gt;</span><span class=\"a1\" title=\"attention 0.100\"> When</span>"
            + "<span class=\"a7\" title=\"attention 0.750\"> Mary</span><span class=\"a1\" title=\"attention 0.020\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"
            + "<span class=\"a1 f\" title=\"query position · attention 0.080\"> and</span> John")
        #expect(head.contains("shaded by the attention weight head 0 gives it"))
        for page in ["neighbourhoods/blocks.1.hook_resid_post/q1.html", "neighbourhoods/blocks.1.hook_resid_post/q2.html"] {
            let html = try text(site, page)
            let query = html.components(separatedBy: "<p class=\"ctx query\">")[1].components(separatedBy: "</p>")[0]
            #expect(!query.contains("class=\"a"), "\(page): attention shading at a residual site")
            #expect(!html.contains("attention"), "\(page)")
        }
    }

    @Test func dataIsEscaped() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for page in SiteFixtures.files(under: site) where page.hasPrefix("neighbourhoods/") {
            let html = try text(site, page)
            #expect(!html.lowercased().contains("<script>"), "\(page): raw <script>")
            #expect(!html.contains("<b>") && !html.contains("<img"), "\(page): raw markup from data")
            #expect(!html.contains("http://") && !html.contains("https://"), "\(page): remote reference")
            for link in try SiteOutputScanner.links(in: html) {
                #expect(!link.hasPrefix("//") && !link.contains(":"), "\(page): link \(link)")
            }
        }
        let q2 = try text(site, "neighbourhoods/blocks.1.hook_resid_post/q2.html")
        #expect(q2.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(q2.contains("text &quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(q2.contains("<td>the token 1 before the matched one is “ When” &lt;b&gt;bold&lt;/b&gt;</td><td>29 of 31 inside ε; 4 of 33 outside</td>"))
        #expect(q2.contains("<td>the count is 3</td>"))
    }

    @Test func everyLinkOfTheFamilyResolves() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let files = Set(SiteFixtures.files(under: site))
        var checked = 0
        for page in files.sorted() where page.hasPrefix("neighbourhoods/") {
            for link in try SiteOutputScanner.links(in: try text(site, page)) {
                let target = try #require(SiteOutputScanner.target(of: link, from: page), "\(page): link \(link) is not relative")
                #expect(files.contains(target), "\(page): link \(link) → \(target) does not exist")
                checked += 1
            }
        }
        #expect(checked > 50)
        let q1 = try text(site, "neighbourhoods/blocks.1.hook_resid_post/q1.html")
        #expect(q1.contains("<a href=\"../../blocks.1.hook_resid_post-topk/features/1.html\">top example 1 of feature 1</a> in the atlas"))
        #expect(q1.contains("<a href=\"q2.html\" rel=\"next\">Query q2 →</a>"))
        #expect(!(try text(site, "neighbourhoods/blocks.1.hook_resid_post/q3.html")).contains("in the atlas"))
    }

    @Test func atlasExamplesLinkTheQueryTakenFromThem() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let link = "<a class=\"know\" href=\"../../neighbourhoods/blocks.1.hook_resid_post/q1.html\">what does this position know</a>"
        let feature1 = try text(site, "blocks.1.hook_resid_post-topk/features/1.html")
        let examples = feature1.components(separatedBy: "<div class=\"ex\">").dropFirst()
        #expect(examples.first?.contains(link) == true)  // top example 0, as q1's ref says
        #expect(feature1.components(separatedBy: "what does this position know").count == 2)  // and no other example
        // q2 names rank 25 of feature 3, which has 20 top examples; q3 names another hook.
        for page in SiteFixtures.files(under: site) where page.contains("/features/") && !page.hasSuffix("features/1.html") {
            #expect(!(try text(site, page)).contains("what does this position know"), "\(page)")
        }
        let plain = try writeSite(withoutNeighbourhoods)
        defer { try? FileManager.default.removeItem(at: plain.deletingLastPathComponent()) }
        #expect(!(try text(plain, "blocks.1.hook_resid_post-topk/features/1.html")).contains("what does this position know"))
    }

    @Test func circuitHeadPagesListTheSitesReadingThem() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for slug in ["ioi", "greater than"] {
            let reader = try text(site, "circuits/\(slug)/a1.h0.html")
            #expect(reader.contains("<h2>Decoded neighbourhoods"))
            #expect(reader.contains("<li><a href=\"../../neighbourhoods/blocks.1.attn.hook_z.h0/q1.html\">blocks.1.attn.hook_z head 0 · query q1</a> <small>ioi prompt 2, position −1</small></li>"))
            for other in ["a0.h0", "a0.h1", "a1.h1"] {
                let html = try text(site, "circuits/\(slug)/\(other).html")
                #expect(html.contains("No neighbourhood site reads this head."), "\(other)")
                #expect(!html.contains("neighbourhoods/"), "\(other)")
            }
            #expect(!(try text(site, "circuits/\(slug)/m1.html")).contains("Decoded neighbourhoods"))
        }
        let plain = try writeSite(withoutNeighbourhoods)
        defer { try? FileManager.default.removeItem(at: plain.deletingLastPathComponent()) }
        #expect(!(try text(plain, "circuits/ioi/a1.h0.html")).contains("Decoded neighbourhoods"))
        #expect(!SiteFixtures.files(under: plain).contains { $0.hasPrefix("neighbourhoods/") })
    }

    @Test func reportIndexLinksTheFamilyWhenThereIsOne() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        #expect(try text(site, "index.html").contains("<p>4 queries at 2 sites · ε = 0.100 on ‖q − z‖₂ / ‖q‖₂ · <a href=\"neighbourhoods/index.html\">the decoder and every site</a></p>"))
        let plain = try writeSite(withoutNeighbourhoods)
        defer { try? FileManager.default.removeItem(at: plain.deletingLastPathComponent()) }
        #expect(!(try text(plain, "index.html")).contains("neighbourhoods"))
    }

    @Test func summaryHasALinePerSiteAndTheFirstStatementOfEachQuery() throws {
        let findings = SiteFixtures.report()
        let paragraph = NeighbourhoodSummary.reportParagraph(findings: findings)
        #expect(paragraph.hasPrefix("## Decoded neighbourhoods\n"))
        #expect(paragraph.contains("ε = 0.100"))
        #expect(paragraph.contains("held-out loss 1.420 per token"))
        #expect(paragraph.contains("- [blocks\\.1\\.hook\\_resid\\_post](neighbourhoods/blocks.1.hook_resid_post/index.html): 3 queries, 60.0% of decoded samples inside ε."))
        #expect(paragraph.contains("- [blocks\\.1\\.attn\\.hook\\_z head 0](neighbourhoods/blocks.1.attn.hook_z.h0/index.html): 1 query, 55.0% of decoded samples inside ε."))
        #expect(paragraph.contains("  - q1 (ioi prompt 2, position −1): the token 1 before the matched one is “ When” \\<b\\>bold\\</b\\> (29 of 31 inside ε; 4 of 33 outside)."))
        #expect(paragraph.components(separatedBy: "\n").filter { $0.hasPrefix("  - ") }.count == 4)
        #expect(!paragraph.contains("the count is 3"))
        #expect(NeighbourhoodSummary.reportParagraph(findings: findings, linkPrefix: "site/").contains("](site/neighbourhoods/blocks.1.hook_resid_post/index.html)"))
        let html = try #require(Markdown.html(paragraph))
        #expect(!html.contains("<b>") && !html.contains("<img"))
        #expect(NeighbourhoodSummary.reportParagraph(findings: withoutNeighbourhoods).isEmpty)

        // In a site's summary.md and its rendering on the index, the site's line links its page.
        let site = try writeSite(summary: SiteFixtures.summary + "\n\n" + paragraph)
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        #expect(try text(site, "summary.md").contains("blocks\\.1\\.attn\\.hook\\_z head 0"))
        #expect(try text(site, "index.html").contains("<a href=\"neighbourhoods/blocks.1.attn.hook_z.h0/index.html\">blocks.1.attn.hook_z head 0</a>"))
    }

    @Test func rejectsSlugsAndQueryIDsThatAreNotFileNames() throws {
        let folder = try SiteFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(slugs: [String], ids: [String])] = [
            (["../escape", "h"], ["q1"]), (["a/b", "h"], ["q1"]), ([".hidden", "h"], ["q1"]), (["same", "same"], ["q1"]),
            (["r", "h"], ["index"]), (["r", "h"], ["q/1"]), (["r", "h"], [""]),
        ]
        for (slugs, ids) in cases {
            var findings = SiteFixtures.report(featureCount: 2)
            findings.neighbourhoods?.sites = zip(NeighbourhoodFixtures.findings.sites, slugs).map { site, slug in
                var site = site
                site.slug = slug
                site.queries[0].id = ids[0]
                return site
            }
            #expect(throws: SiteError.self, "slugs \(slugs), ids \(ids)") {
                try SiteWriter.write(findings: findings, summaryMarkdown: "", to: folder.appendingPathComponent("site"), resources: SiteFixtures.resources)
            }
        }
        var twice = SiteFixtures.report(featureCount: 2)
        twice.neighbourhoods?.sites[0].queries[1].id = "q1"
        #expect(throws: SiteError.self) {
            try SiteWriter.write(findings: twice, summaryMarkdown: "", to: folder.appendingPathComponent("site"), resources: SiteFixtures.resources)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        #expect(SitePaths.problem(withDictionaryID: "neighbourhoods") != nil)
    }
}

@Suite("Neighbourhood page parts")
struct NeighbourhoodPartTests {
    @Test func distancesSplitAtEpsilonInOrder() {
        let scale = DistanceScale(epsilon: 0.1, distances: [0.05, .nan, 0.1, 0.4])
        #expect(scale.full == 0.4)
        let (inside, outside) = scale.split([0.4, .nan, 0.1, 0.05, 0.1000001], distance: { $0 })
        #expect(inside.map(\.item) == [0.05, 0.1])
        #expect(inside.map(\.rank) == [1, 2])
        #expect(outside.map(\.rank) == [3, 4, 5])
        #expect(outside.first?.item == 0.1000001 && outside[1].item == 0.4 && outside[2].item.isNaN)
        #expect(DistanceScale(epsilon: 0.1, distances: [0.01]).full == 0.2)  // never narrower than 2ε
        #expect(DistanceScale(epsilon: 0, distances: []).full == 1)
        #expect(scale.bar(.nan).contains("<rect class=\"fill out\" width=\"0\""))
        #expect(scale.bar(9).contains("<rect class=\"fill out\" width=\"96\""))
    }

    @Test func numbersAndNamesReadWell() {
        #expect(NeighbourhoodText.compact(0.5) == "0.5")
        #expect(NeighbourhoodText.compact(2) == "2")
        #expect(NeighbourhoodText.compact(0.05) == "0.05")
        #expect(NeighbourhoodText.compact(0) == "0")
        #expect(NeighbourhoodText.formula("cosine") == "1 − cos(q, z)")
        #expect(NeighbourhoodText.formula("l2\u{202E}") == "l2⟨U+202E⟩")
        #expect(NeighbourhoodTokens.signed(-0.6) == "−0.60" && NeighbourhoodTokens.signed(0.35) == "+0.35")
    }

    @Test func headSitesAreFoundByLayerAndHead() {
        let findings = SiteFixtures.report()
        #expect(NeighbourhoodLinks.queriesReading(layer: 1, head: 0, findings: findings).map { $0.query.id } == ["q1"])
        #expect(NeighbourhoodLinks.queriesReading(layer: 1, head: 1, findings: findings).isEmpty)
        #expect(NeighbourhoodLinks.queriesReading(layer: 0, head: 0, findings: findings).isEmpty)
        #expect(NeighbourhoodLinks.queriesOfExamples(feature: 1, hook: "blocks.1.hook_resid_post", findings: findings)
            == [0: "neighbourhoods/blocks.1.hook_resid_post/q1.html"])
        #expect(NeighbourhoodLinks.queriesOfExamples(feature: 3, hook: "blocks.1.hook_resid_post", findings: findings)
            == [25: "neighbourhoods/blocks.1.hook_resid_post/q2.html"])
    }
}
