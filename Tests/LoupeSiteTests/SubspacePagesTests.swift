import Foundation
import LoupeFindings
import Testing
@testable import LoupeSite

@Suite("Subspace pages")
struct SubspacePagesTests: WrittenSiteTests {
    @Test func pagesExistAndShowThePartition() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let files = Set(SiteFixtures.files(under: site))
        let folder = "subspaces/\(SubspaceFixtures.slug)/"
        let expected = ["subspaces/index.html", folder + "index.html", folder + "s1.html", folder + "s2.html", folder + "s3.html"]
        for path in expected { #expect(files.contains(path), "missing \(path)") }
        #expect(files.filter { $0.hasPrefix("subspaces/") }.count == expected.count)

        let index = try text(site, "subspaces/index.html")
        #expect(index.contains("<a class=\"mono\" href=\"blocks.0.hook_resid_post/index.html\">blocks.0.hook_resid_post</a>"))
        #expect(index.contains("ioi: <strong>0.600</strong> vs 0.400 <small>pca</small> <small class=\"pos\">NDM more concentrated</small>"))
        #expect(index.contains("<td class=\"mono\">8 + 4 + 4</td>"))

        let page = try text(site, folder + "index.html")
        #expect(page.contains("<a href=\"s1.html\"><rect class=\"block b0\""))
        #expect(page.contains("<tr class=\"hl\"><td>ndm</td><td class=\"num\">0.600</td><td class=\"num\">0.820</td></tr>"))
        #expect(page.contains("<td class=\"num\"><strong>0.820</strong></td>") && page.contains("<td class=\"num\">0.050</td>"))
        #expect(page.contains("the matched token is “ Mary” &lt;i&gt;x&lt;/i&gt; <small>11 of 12 above the threshold; 3 of 200 below</small>"))
        #expect(page.contains("Training ended because a merging round found no pair above the threshold."))
        #expect(page.contains("<td class=\"num\">300</td><td>4 → 3</td><td class=\"num\">0.200</td><td>0.200</td>"))

        let first = try text(site, folder + "s1.html")
        #expect(first.contains("<h1>Subspace s1 <small class=\"mono\">blocks.0.hook_resid_post</small></h1>"))
        #expect(first.contains("<dt>Effect on ioi</dt><dd>0.820 <small>rank 1 of 3</small></dd>"))
        #expect(first.contains("12 of 999 sample activations (1.20%) have cosine similarity ≥ 0.85"))
        #expect(first.contains("<td class=\"num\">0.970</td><td class=\"num\">8</td>"))
        #expect(first.contains("<a href=\"s2.html\">next subspace →</a>") && !first.contains("previous subspace"))
        let second = try text(site, folder + "s2.html")
        #expect(second.contains("No activation is above the threshold.") && second.contains("No statement separates"))
        #expect(second.contains("<dt>Effect on ioi</dt><dd>0.050 <small>rank 3 of 3</small></dd>"))

        let home = try text(site, "index.html")
        #expect(home.contains("3 subspaces at 1 site · <a href=\"subspaces/index.html\">"))
        let circuit = try text(site, "circuits/ioi/index.html")
        #expect(circuit.contains("<a href=\"../../subspaces/blocks.0.hook_resid_post/s1.html\">s1</a> of <span class=\"mono\">blocks.0.hook_resid_post</span> (8 columns): effect 0.820"))
        #expect(!circuit.contains("s2.html"))
    }

    @Test func theSummaryNamesTheLargestEffect() {
        let markdown = SubspaceSummary.reportParagraph(findings: SiteFixtures.report())
        #expect(markdown.contains("- [blocks\\.0\\.hook\\_resid\\_post](subspaces/blocks.0.hook_resid_post/index.html): 3 subspaces of sizes 8, 4, 4"))
        #expect(markdown.contains("ioi: the largest effect is [s1](subspaces/blocks.0.hook_resid_post/s1.html) (8 columns, effect 0.820)"))
        #expect(markdown.contains("Gini of the effects: ndm 0.600, identity 0.000, random 0.150, pca 0.400."))
        #expect(!markdown.contains("<i>"))
    }
}
