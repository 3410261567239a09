import Foundation
import LoupeFindings
import Testing
@testable import LoupeSite

@Suite("Circuit pages")
struct CircuitPagesTests: WrittenSiteTests {
    var tasks: [CircuitTaskFindings] { CircuitFixtures.findings.tasks }

    @Test func everyPageKindExists() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let files = Set(SiteFixtures.files(under: site))
        for task in tasks {
            let folder = "circuits/\(task.slug)/"
            for name in ["index.html", "summary.md", "graph.json"] + CircuitFixtures.nodeIDs.map({ $0 + ".html" }) {
                #expect(files.contains(folder + name), "missing \(folder + name)")
            }
        }
        let circuitFiles = files.filter { $0.hasPrefix("circuits/") }
        #expect(circuitFiles.count == tasks.count * (3 + CircuitFixtures.nodeIDs.count))
    }

    @Test func everyInternalLinkAndAnchorResolves() throws {
        let site = try writeSite(summary: SiteFixtures.summary + "\n\n" + CircuitSummary.reportParagraph(findings: SiteFixtures.report()))
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let files = Set(SiteFixtures.files(under: site))
        var checked = 0
        for page in files.sorted() where page.hasSuffix(".html") {
            let html = try text(site, page)
            let ids = Set(try SiteOutputScanner.tags(in: html).flatMap { $0.attributes.filter { $0.name == "id" }.map(\.value) })
            for link in try SiteOutputScanner.links(in: html) {
                let target = try #require(SiteOutputScanner.target(of: link, from: page), "\(page): link \(link) is not relative")
                #expect(files.contains(target), "\(page): link \(link) → \(target) does not exist")
                if let hash = link.firstIndex(of: "#") {
                    let anchor = String(link[link.index(after: hash)...])
                    let targetIDs = target == page ? ids : Set(try SiteOutputScanner.tags(in: try text(site, target)).flatMap {
                        $0.attributes.filter { $0.name == "id" }.map(\.value)
                    })
                    #expect(targetIDs.contains(anchor), "\(page): anchor \(link) has no element")
                }
                if page.hasPrefix("circuits/") { checked += 1 }
            }
        }
        #expect(checked > 100)
        // The task page links each node of the graph, and the node page links the atlas's feature page.
        let task = try text(site, "circuits/ioi/index.html")
        #expect(task.contains("<a href=\"a1.h0.html\"><title>a1.h0"))
        let node = try text(site, "circuits/ioi/a1.h0.html")
        #expect(node.contains("href=\"../../blocks.1.hook_resid_post-topk/features/3.html\""))
        #expect(!node.contains("features/999.html"))
        #expect(node.contains("href=\"../greater%20than/a1.h0.html\""))
        // The report summary links every task's summary.md, which the site writes.
        let index = try text(site, "index.html")
        for task in tasks { #expect(index.contains("href=\"circuits/\(SitePaths.urlSegment(task.slug))/summary.md\"")) }
    }

    @Test func indexLinksEachTaskPage() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let index = try text(site, "index.html")
        #expect(index.contains("<h2>Circuits</h2>"))
        #expect(index.contains("<a href=\"circuits/ioi/index.html\">ioi</a>"))
        #expect(index.contains("<a href=\"circuits/greater%20than/index.html\">greater than &lt;b&gt;{{x}}&lt;/b&gt;</a>"))
        // Best method by node AUC: patching (0.950) over eap (0.900).
        #expect(index.contains("<td>patching</td><td class=\"num\">0.950</td>"))
    }

    @Test func dataIsEscapedEverywhere() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for page in SiteFixtures.files(under: site) where page.hasPrefix("circuits/") && page.hasSuffix(".html") {
            let html = try text(site, page)
            let lower = html.lowercased()
            #expect(!lower.contains("<script>"), "\(page): raw <script>")
            #expect(!lower.contains("<img"), "\(page): raw <img")
            #expect(!lower.contains("<b>"), "\(page): raw <b>")
            #expect(!html.contains("\"onerror="), "\(page): raw quote before onerror")
            #expect(!["{{#", "{{/", "{{^", "{{>", "{{page"].contains { html.contains($0) }, "\(page): unrendered tag")
        }
        let task = try text(site, "circuits/ioi/index.html")
        #expect(task.contains("<span class=\"t\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"))
        #expect(task.contains("<span class=\"t\">&quot;onerror=</span>"))
        #expect(task.contains("<span class=\"t\"> {{x}}</span>"))
        #expect(task.contains("<span class=\"t d\"> Mary</span>"))
        #expect(task.contains("<span class=\"t d\"> Anna</span>"))
        #expect(task.contains("<span class=\"tok\"> Mary&lt;img src=x&gt;</span>"))
        #expect(task.contains("loupe circuit --task ioi &lt;script&gt;alert(5)&lt;/script&gt;"))
        let node = try text(site, "circuits/ioi/a1.h0.html")
        #expect(node.contains(">&lt;script&gt;a…</text>"))  // the heat map's shortened token label
        #expect(node.contains("Feature 1 of absent&lt;script&gt;"))
        // Markdown: the hostile task name is escaped, so it stays text.
        let summary = try text(site, "circuits/greater than/summary.md")
        #expect(summary.contains("# Circuit: greater than \\<b\\>\\{\\{x\\}\\}\\</b\\>"))
        let rendered = try #require(Markdown.html(summary))
        #expect(!rendered.contains("<b>"))
    }

    @Test func graphJSONFollowsCircuitTracersSchema() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for task in tasks {
            let data = try Data(contentsOf: site.appendingPathComponent("circuits/\(task.slug)/graph.json"))
            let graph = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let metadata = try #require(graph["metadata"] as? [String: Any])
            #expect(metadata["schema_version"] as? Int == 1)
            #expect(metadata["slug"] as? String == task.slug)
            #expect(metadata["prompt_tokens"] as? [String] == task.prompts[0].clean)
            let q = try #require(graph["qParams"] as? [String: Any])
            #expect(q["linkType"] as? String == "both")
            #expect((q["supernodes"] as? [Any])?.isEmpty == true)
            #expect(q["clickedId"] is String)
            let nodes = try #require(graph["nodes"] as? [[String: Any]])
            let ids = nodes.compactMap { $0["node_id"] as? String }
            #expect(ids == ["input"] + CircuitFixtures.nodeIDs + ["logits"])
            for node in nodes {
                for key in ["node_id", "layer", "ctx_idx", "feature_type", "jsNodeId", "clerp"] { #expect(node[key] != nil, "node lacks \(key)") }
                #expect(node["ctx_idx"] as? Int == task.prompts[0].clean.count - 1)
            }
            #expect(nodes.first?["feature_type"] as? String == "embedding")
            #expect(nodes.last?["feature_type"] as? String == "logit")
            let best = try #require(task.methods.max { ($0.nodeAUC ?? -1) < ($1.nodeAUC ?? -1) })
            #expect(Set(q["pinnedIds"] as? [String] ?? []) == Set(best.circuit))
            let links = try #require(graph["links"] as? [[String: Any]])
            #expect(!links.isEmpty)
            let known = Set(ids)
            for link in links {
                let source = try #require(link["source"] as? String), target = try #require(link["target"] as? String)
                #expect(known.contains(source) && known.contains(target), "link \(source) → \(target) names a missing node")
                #expect(link["weight"] is Double)
            }
        }
    }

    @Test func summaryHasTheAUCTableWithEveryMethod() throws {
        let findings = SiteFixtures.report()
        let ioi = tasks[0]
        let summary = CircuitSummary.markdown(task: ioi, findings: findings)
        #expect(summary.contains("| method | node AUC | edge AUC | circuit size | faithfulness | completeness |"))
        #expect(summary.contains("| patching | 0.950 | — | 3 | 93.0% | 8.00% |"))
        #expect(summary.contains("| eap | 0.900 | 0.850 | 2 | 93.0% | 8.00% |"))
        #expect(summary.contains("Best method by node AUC: patching"))
        #expect(summary.contains("`a0.h1`, `a1.h0`, `m1`"))
        #expect(summary.contains("mean ablation"))
        #expect(summary.contains("24 clean/corrupted prompt pairs"))
        #expect(summary.contains("faithfulness 91.0%"))
        #expect(summary.contains("loses at least 37.0% (smallest drop: `a1.h0`)"))
        #expect(summary.components(separatedBy: "\n").filter { $0.hasPrefix("| ") }.count == 2 + ioi.methods.count)  // header, rule, a row per method

        let paragraph = CircuitSummary.reportParagraph(findings: findings)
        #expect(paragraph.contains("[ioi](circuits/ioi/summary.md): 24 pairs, mean ablation; best method patching (node AUC 0.950)"))
        #expect(paragraph.contains("(circuits/greater%20than/summary.md)"))
        #expect(CircuitSummary.reportParagraph(findings: findings, linkPrefix: "site/").contains("(site/circuits/ioi/summary.md)"))
        var none = findings
        none.circuits = nil
        #expect(CircuitSummary.reportParagraph(findings: none).isEmpty)
    }

    @Test func figuresStateMetricAblationPairsAndLevel() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let task = try text(site, "circuits/ioi/index.html")
        let captions = task.components(separatedBy: "<figcaption>").dropFirst().map { $0.components(separatedBy: "</figcaption>")[0] }
        #expect(captions.count == 1 + 2 + 2)  // graph, two faithfulness charts, two ROC curves
        for caption in captions {
            #expect(caption.contains("logit difference · mean ablation · 24 pairs"), "\(caption)")
            #expect(caption.contains("node level") || caption.contains("Node level") || caption.contains("Nodes (node level)"), "\(caption)")
        }
        #expect(captions[0].contains("Edges (edge level): eap") && captions[0].contains("largest |score|"))
        #expect(captions[0].contains("(patching scores no edges)"))
        let other = try text(site, "circuits/greater than/index.html")
        #expect(other.contains("logit difference · resample ablation · 1 pair"))
        #expect(!other.contains("Node ROC"))  // no known circuit, no ROC
    }

    @Test func svgFiguresFitNarrowScreens() throws {
        let site = try writeSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for page in ["circuits/ioi/index.html", "circuits/ioi/a0.h1.html", "circuits/ioi/m0.html"] {
            let html = try text(site, page)
            for tag in try SiteOutputScanner.tags(in: html) where tag.name == "svg" {
                let classes = tag.attributes.first { $0.name == "class" }?.value ?? ""
                #expect(tag.attributes.contains { $0.name == "viewbox" }, "\(page): svg without viewBox")
                if classes == "heat" {
                    #expect(html[..<tag.range.lowerBound].hasSuffix("<div class=\"scroll\">"), "\(page): heat map outside a scrolling box")
                }
            }
        }
        let css = try String(contentsOf: SiteFixtures.resources.assets.appendingPathComponent("loupe.css"), encoding: .utf8)
        #expect(css.contains("svg.cgraph { display: block; max-width: 100%; height: auto; }"))
        #expect(css.contains("minmax(min(100%, 320px), 1fr)"))
    }

    @Test func twoWritesAreByteIdentical() throws {
        let first = try writeSite(), second = try writeSite()
        defer {
            try? FileManager.default.removeItem(at: first.deletingLastPathComponent())
            try? FileManager.default.removeItem(at: second.deletingLastPathComponent())
        }
        let files = SiteFixtures.files(under: first).filter { $0.hasPrefix("circuits/") || $0 == "index.html" }
        #expect(files.count > 10)
        for path in files {
            #expect(try Data(contentsOf: first.appendingPathComponent(path)) == Data(contentsOf: second.appendingPathComponent(path)), "\(path) differs")
        }
    }

    @Test func aReportWithoutCircuitsHasNoCircuitPages() throws {
        var findings = SiteFixtures.report()
        findings.circuits = nil
        let site = try writeSite(findings)
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        #expect(!SiteFixtures.files(under: site).contains { $0.hasPrefix("circuits/") })
        #expect(!(try text(site, "index.html")).contains("<h2>Circuits</h2>"))
    }

    @Test func rejectsSlugsThatAreNotFolderNames() throws {
        let folder = try SiteFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for slugs in [["../escape", "ioi"], ["a/b", "ioi"], ["", "ioi"], [".hidden", "ioi"], ["ioi", "ioi"]] {
            var findings = SiteFixtures.report(featureCount: 2)
            findings.circuits?.tasks = zip(tasks, slugs).map { task, slug in
                var task = task
                task.slug = slug
                return task
            }
            #expect(throws: SiteError.self, "slugs \(slugs)") {
                try SiteWriter.write(findings: findings, summaryMarkdown: "", to: folder.appendingPathComponent("site"), resources: SiteFixtures.resources)
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        #expect(SitePaths.problem(withDictionaryID: "circuits") != nil)
    }
}

@Suite("Circuit page parts")
struct CircuitPartTests {
    @Test func nodeIDsAreRead() {
        #expect(CircuitNodeRef("a1.h2")?.kind == .head)
        #expect(CircuitNodeRef("a1.h2")?.head == 2)
        #expect(CircuitNodeRef("a10.h11<k>")?.port == "k")
        #expect(CircuitNodeRef("a10.h11<k>")?.nodeID == "a10.h11")
        #expect(CircuitNodeRef("m3")?.kind == .mlp)
        #expect(CircuitNodeRef("input")?.kind == .input)
        #expect(CircuitNodeRef("logits")?.kind == .logits)
        for bad in ["", "a", "a1", "a1.h", "a01.h2", "m", "m3<q>", "a1.h2<x>", "a1.h2<q", "b1.h2", "a-1.h2", "../a1.h2", "a1.h2.html"] {
            #expect(CircuitNodeRef(bad) == nil, "\(bad)")
        }
    }

    @Test func bestMethodHasTheHighestNodeAUCElseTheFirst() {
        let ioi = CircuitTaskFacts(CircuitFixtures.findings.tasks[0])
        #expect(ioi.best?.method == "patching")
        #expect(ioi.edgeMethod?.method == "eap")
        #expect(ioi.layers == 2 && ioi.heads == 2)
        #expect(ioi.nodes.map(\.nodeID) == CircuitFixtures.nodeIDs)
        let other = CircuitTaskFacts(CircuitFixtures.findings.tasks[1])
        #expect(other.best?.method == "patching")
        #expect(other.edgeMethod?.method == "eap")
    }

    @Test func shownEdgesJoinCircuitNodesInputAndLogits() {
        let eap = CircuitFixtures.findings.tasks[0].methods[1]
        let circuit: Set<String> = ["a0.h1", "a1.h0"]
        let edges = CircuitGraphDrawing.shownEdges(eap.edges, circuit: circuit, limit: 30)
        #expect(!edges.isEmpty && edges.count <= 30)
        for edge in edges {
            #expect(edge.sender == "input" || circuit.contains(edge.sender))
            #expect(edge.receiver == "logits" || circuit.contains(CircuitNodeRef(edge.receiver)?.nodeID ?? ""))
        }
        #expect(zip(edges, edges.dropFirst()).allSatisfy { abs($0.score) >= abs($1.score) })
        #expect(CircuitGraphDrawing.shownEdges(eap.edges, circuit: circuit, limit: 3).count == 3)
    }

    @Test func graphDrawingTitlesAndLinksEveryNode() {
        let facts = CircuitTaskFacts(CircuitFixtures.findings.tasks[0])
        let view = CircuitTaskViewBuilder.graph(facts)
        for id in CircuitFixtures.nodeIDs {
            #expect(view.svg.contains("<a href=\"\(id).html\"><title>\(id) · score"), "\(id)")
        }
        #expect(view.svg.contains("class=\"node in\""))
        #expect(view.svg.contains("class=\"node out\""))
        #expect(view.svg.contains("class=\"edge pos\""))
        #expect(view.svg.contains("class=\"edge neg\""))
        #expect(view.svg.contains(">input</text>") && view.svg.contains(">logits</text>"))
        #expect(view.svg.contains("(eap)</title></path>") && !view.svg.contains("(patching)</title></path>"))
        // Layer 0 is drawn below layer 1 (larger y), input below everything, logits above.
        let drawing = CircuitGraphDrawing(layers: 2, heads: 2, nodes: [], circuit: [], edges: [], method: "m", edgeMethod: "e", href: { _ in nil }, title: "t")
        #expect(drawing.y(row: 0) > drawing.y(row: 1) && drawing.y(row: 1) > drawing.y(row: 3) && drawing.y(row: 3) > drawing.y(row: 5))
        #expect(view.largest != nil)
    }

    @Test func lineChartMarksTheChosenSizeAndRulesAtZeroAndOne() {
        let chart = LineChart(
            points: [(0, 0), (1, 0.5), (2, 1.1)], xRange: 0...2, yRange: 0...1.1, rules: [0, 1], mark: (1, "n = 1"),
            xLabel: "n", yLabel: "faithfulness", title: "t <b>")
        let svg = chart.svg
        #expect(svg == chart.svg)
        #expect(svg.contains(">0</text>") && svg.contains(">1</text>"))
        #expect(svg.contains("<circle class=\"mark\""))
        #expect(svg.contains(">n = 1</text>"))
        #expect(svg.contains("t &lt;b&gt;"))
        #expect(svg.contains("viewBox=\"0 0 320 190\""))
    }

    @Test func heatMapTitlesEveryCellWithItsWeight() {
        let map = AttentionHeatmap(tokens: ["a", "<b>"], weights: [[1, 0], [0.25, 0.75]], title: "x")
        let svg = map.svg
        #expect(svg.components(separatedBy: "<rect class=\"cell\"").count - 1 == 3)  // the masked cell is left blank
        #expect(svg.contains("<title>query 1 &lt;b&gt; → key 0 a: 0.250</title>"))
        #expect(svg.contains("fill-opacity=\"0.750\""))
    }
}
