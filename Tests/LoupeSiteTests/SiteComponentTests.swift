import Foundation
import LoupeFindings
import Testing
@testable import LoupeSite

@Suite("Site components")
struct SiteComponentTests {
    @Test func escapingCoversTheFiveHTMLCharacters() {
        #expect(DisplayText.escapeHTML("<a href=\"x\" title='y'>&</a>") == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
    }

    @Test func bidiControlsAndInvisibleCharactersBecomeVisible() {
        #expect(DisplayText.token("\u{202E}abc") == "⟨U+202E⟩abc")
        #expect(DisplayText.token("a\u{2066}b\u{2069}") == "a⟨U+2066⟩b⟨U+2069⟩")
        #expect(DisplayText.token("\u{200F}\u{061C}\u{FEFF}") == "⟨U+200F⟩⟨U+061C⟩⟨U+FEFF⟩")
        #expect(DisplayText.token("\n\t x\u{0}") == "↵⇥ x⟨U+0000⟩")
        #expect(DisplayText.token("\u{FFFD}") == "\u{FFFD}")
        #expect(DisplayText.token(" café 東京 😀") == " café 東京 😀")
        #expect(DisplayText.text("line\nbreak\u{202D}") == "line break⟨U+202D⟩")
    }

    @Test func numbersAreFormattedWithoutLocale() {
        #expect(NumberText.significant(0.0012345) == "0.00123")
        #expect(NumberText.significant(12.345) == "12.3")
        #expect(NumberText.significant(4567) == "4567")
        #expect(NumberText.significant(0) == "0")
        #expect(NumberText.significant(.nan) == "n/a")
        #expect(NumberText.percent(0.0123) == "1.23%")
        #expect(NumberText.integer(1_234_567) == "1\u{202F}234\u{202F}567")
        #expect(NumberText.count(1234) == "1.2k")
        #expect(NumberText.fixed(-0.0001, 2) == "0.00")
        #expect(NumberText.score(nil) == "n/a")
    }

    @Test func shadingMapsActivationToNineLevels() {
        #expect(AtlasViewBuilder.shade(0, scale: 2) == nil)
        #expect(AtlasViewBuilder.shade(-1, scale: 2) == nil)
        #expect(AtlasViewBuilder.shade(.nan, scale: 2) == nil)
        #expect(AtlasViewBuilder.shade(0.001, scale: 2) == 1)
        #expect(AtlasViewBuilder.shade(1, scale: 2) == 5)
        #expect(AtlasViewBuilder.shade(2, scale: 2) == 9)
        #expect(AtlasViewBuilder.shade(5, scale: 2) == 9)
    }

    @Test func examplesToleratePartialData() {
        // Fewer activations than tokens and a focus outside the window must not trap.
        let example = ActivationExample(document: 1, position: 2, tokens: ["a", "b", "c"], activations: [1], focus: 9)
        let tokens = AtlasViewBuilder.tokens(example, scale: 1)
        #expect(tokens.count == 3)
        #expect(tokens[0].tokClass == "a9")
        #expect(tokens[1].plain && tokens[1].tokClass.isEmpty && tokens[1].tokTitle.isEmpty)
        #expect(AtlasViewBuilder.example(example, scale: 1).exValue == "0")
    }

    @Test func barChartIsEscapedDeterministicSVG() {
        let chart = BarChart(lower: -1, upper: 3, counts: [1, 5, 0, 2], xLabel: "<x> & \u{202E}", title: "t\"", signed: true)
        let svg = chart.svg
        #expect(svg.hasPrefix("<svg class=\"chart\""))
        #expect(svg.hasSuffix("</svg>"))
        #expect(svg.contains("&lt;x&gt; &amp; ⟨U+202E⟩"))
        #expect(svg.contains("aria-label=\"t&quot;\""))
        #expect(svg.contains("class=\"bars neg\""))
        #expect(svg.contains("class=\"zero\""))
        #expect(!svg.contains("http"))  // inline SVG in HTML needs no namespace URL
        #expect(svg == chart.svg)
        let empty = BarChart(lower: 0, upper: 0, counts: [], xLabel: "x", title: "t").svg
        #expect(empty.contains("no data"))
    }

    @Test func markdownIsRenderedSafely() throws {
        let html = try #require(Markdown.html("""
        # Title

        Some *text* with `code` & <span onclick="x()">raw</span>.

        <script>alert(1)</script>

        [bad](javascript:alert(1)) [ok](other/page.html) ![pic](https://example.invalid/p.png) ![inline](img.png)
        """))
        #expect(html.contains("<h1>Title</h1>"))
        #expect(html.contains("<em>text</em>"))
        #expect(html.contains("<code>code</code> &amp;"))
        #expect(!html.contains("<span"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("javascript:"))
        #expect(html.contains("<a href=\"other/page.html\">ok</a>"))
        #expect(!html.contains("example.invalid"))
        #expect(html.contains("pic"))
        #expect(html.contains("<img src=\"img.png\" alt=\"inline\" />"))
        #expect(Markdown.html("") == "")
        #expect(Markdown.html("a\u{0}b")?.contains("\u{FFFD}") == true)
    }

    @Test func remoteURLsAreRecognised() {
        #expect(Markdown.isRemote("https://x.org/a.png"))
        #expect(Markdown.isRemote("//x.org/a.png"))
        #expect(Markdown.isRemote("HTTP://x"))
        #expect(Markdown.isRemote("file:///etc/passwd"))
        #expect(!Markdown.isRemote("a.png"))
        #expect(!Markdown.isRemote("dir/a:b.png") == true)
        #expect(!Markdown.isRemote("data:image/png;base64,AAAA"))
    }

    @Test func dictionaryIDsArePercentEncodedInLinks() {
        #expect(SitePaths.urlSegment("blocks.1.hook_resid_post-topk") == "blocks.1.hook_resid_post-topk")
        #expect(SitePaths.urlSegment("a b#c?d%é") == "a%20b%23c%3Fd%25%C3%A9")
        #expect(SitePaths.problem(withDictionaryID: "ok id") == nil)
        #expect(SitePaths.problem(withDictionaryID: "..") != nil)
        #expect(SitePaths.problem(withDictionaryID: "a/b") != nil)
        #expect(SitePaths.problem(withDictionaryID: "assets") != nil)
    }

    @Test func partialReferencesAreFound() {
        #expect(TemplateSet.partialReferences(in: "{{>head}} x {{> foot }} {{name}}") == ["head", "foot"])
    }
}

@Suite("Site number formatting")
struct SiteNumberFormattingTests {
    @Test func fixedMatchesPrintfOnOrdinaryValues() {
        for value in [0.0, 1, -1, 0.5, 2.345, -2.345, 0.0001, 123456.789, 0.999, 9.9999, 1e-9] {
            for decimals in 0...5 {
                let expected = String(format: "%.\(decimals)f", value)
                let got = NumberText.fixed(value, decimals)
                // Halfway cases may round differently from printf's binary rounding; compare numerically.
                #expect(abs((Double(got) ?? .nan) - (Double(expected) ?? .nan)) <= pow(10, -Double(decimals)) + 1e-12, "\(value) \(decimals): \(got) vs \(expected)")
            }
        }
        #expect(NumberText.fixed(3.14159, 2) == "3.14")
        #expect(NumberText.fixed(0.05, 3) == "0.050")
        #expect(NumberText.fixed(-0.004, 2) == "0.00")
        #expect(NumberText.fixed(-12.5, 0) == "-13")
        #expect(NumberText.fixed(1e300, 1).hasPrefix("1000000"))
    }
}

@Suite("Site example markup")
struct SiteExampleMarkupTests {
    @Test func tokenRunsEscapeEveryTokenAndMarkOnlyActiveOnes() {
        let example = ActivationExample(
            document: 3, position: 9,
            tokens: [" a", "<script>", "\"><img src=x onerror=y>", "\u{202E}", "{{m}}"],
            activations: [0, 2, 0, 1, -0.5], focus: 1
        )
        let view = AtlasViewBuilder.example(example, scale: 2)
        #expect(view.exTokensHTML == " a<span class=\"a9 f\" title=\"2.000\">&lt;script&gt;</span>&quot;&gt;&lt;img src=x onerror=y&gt;<span class=\"a5\" title=\"1.000\">⟨U+202E⟩</span><span title=\"-0.5000\">{{m}}</span>")
        #expect(view.exValue == "2.00")
        #expect(view.exWhere == "doc 3 · pos 9")
    }
}

@Suite("Site view models")
struct SiteViewModelTests {
    /// Every name a template uses (`{{name}}`, `{{{name}}}`, `{{#name}}`, `{{^name}}`, each part of
    /// `a.b`), partials and comments aside.
    func templateNames() throws -> Set<String> {
        let folder = SiteResources.standard().templates
        var names = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".mustache") {
            var rest = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)[...]
            while let open = rest.range(of: "{{") {
                rest = rest[open.upperBound...]
                guard let close = rest.range(of: "}}") else { break }
                var tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                rest = rest[close.upperBound...]
                guard let first = tag.first, first != ">", first != "!", first != "/" else { continue }
                tag = tag.trimmingCharacters(in: CharacterSet(charactersIn: "{}#^&"))
                names.formUnion(tag.split(separator: ".").map(String.init))
            }
        }
        return names
    }

    /// Every key of a Mustache tree, at any depth.
    func keys(_ value: Any) -> Set<String> {
        if let object = value as? MustacheObject { return keys(object.fields) }
        if let dictionary = value as? [String: Any] {
            return dictionary.reduce(into: Set(dictionary.keys)) { $0.formUnion(keys($1.value)) }
        }
        if let array = value as? [Any] { return array.reduce(into: Set<String>()) { $0.formUnion(keys($1)) } }
        return []
    }

    /// Every stored field of a view appears in its tree unless it is `nil`.
    func expectFieldsInTree(_ view: some PageView) throws {
        let tree = try MustacheTree.tree(view).fields
        for child in Mirror(reflecting: view).children {
            guard let label = child.label else { continue }
            let isNil = Mirror(reflecting: child.value).displayStyle == .optional && Mirror(reflecting: child.value).children.isEmpty
            #expect(isNil || tree[label] != nil, "\(type(of: view)).\(label) is not in the tree")
        }
    }

    @Test func everyTemplateNameIsAnsweredByAView() throws {
        let findings = SiteFixtures.report()
        let dictionary = findings.dictionaries[0]
        let features = dictionary.features
        let page = AtlasViewBuilder.featurePage(features[1], dictionary: dictionary, findings: findings,
                                                previous: features[0], next: features[2], existing: Set(features.map(\.index)))
        #expect(page.explanation != nil && page.logit != nil && page.prevHref != nil && page.nextHref != nil)
        let index = IndexPageView(findings: findings, title: findings.name, summaryHTML: "<p>x</p>")
        let table = AtlasViewBuilder.dictionaryPage(dictionary, findings: findings)
        let circuits = try #require(findings.circuits).tasks.map(CircuitTaskFacts.init)
        let task = CircuitTaskViewBuilder.taskPage(circuits[0], findings: findings)
        let head = CircuitNodeViewBuilder.nodePage(circuits[0].nodes[3], facts: circuits[0], all: circuits, findings: findings)
        #expect(task.truth != nil && head.prevNode != nil && head.nextNode != nil && !head.features.isEmpty && !head.patterns.isEmpty)
        #expect(!head.neighbourhoods.isEmpty && page.topExamples.first?.exQueryHref != nil)
        let neighbourhoods = try #require(findings.neighbourhoods)
        let nbIndex = NeighbourhoodSiteViewBuilder.indexPage(neighbourhoods, findings: findings)
        let nbSite = NeighbourhoodSiteViewBuilder.sitePage(neighbourhoods.sites[1], in: neighbourhoods, findings: findings)
        let nbQuery = NeighbourhoodQueryViewBuilder.queryPage(1, site: neighbourhoods.sites[0], in: neighbourhoods, findings: findings)
        let nbHeadQuery = NeighbourhoodQueryViewBuilder.queryPage(0, site: neighbourhoods.sites[1], in: neighbourhoods, findings: findings)
        #expect(nbQuery.exampleHref != nil && nbQuery.prevQuery != nil && nbQuery.nextQuery != nil && nbHeadQuery.attentionNote != nil)
        let subspaces = try #require(findings.subspaces)
        let ssIndex = SubspaceViewBuilder.indexPage(subspaces, findings: findings)
        let ssSite = SubspaceViewBuilder.sitePage(subspaces.sites[0], in: subspaces, findings: findings)
        let ssFirst = SubspaceViewBuilder.subspacePage(0, site: subspaces.sites[0], in: subspaces, findings: findings)
        let ssSecond = SubspaceViewBuilder.subspacePage(1, site: subspaces.sites[0], in: subspaces, findings: findings)
        #expect(ssSecond.previousHref != nil && ssSecond.nextHref != nil && !task.subspaceLinks.isEmpty)
        var answered = Set<String>()
        for tree in [try MustacheTree.tree(page), try MustacheTree.tree(index), try MustacheTree.tree(table),
                     try MustacheTree.tree(task), try MustacheTree.tree(head), try MustacheTree.tree(nbIndex),
                     try MustacheTree.tree(nbSite), try MustacheTree.tree(nbQuery), try MustacheTree.tree(nbHeadQuery),
                     try MustacheTree.tree(ssIndex), try MustacheTree.tree(ssSite), try MustacheTree.tree(ssFirst), try MustacheTree.tree(ssSecond)] {
            answered.formUnion(keys(tree))
        }
        let missing = try templateNames().subtracting(answered)
        #expect(missing.isEmpty, "template names no view answers: \(missing.sorted())")
        try expectFieldsInTree(page)
        try expectFieldsInTree(page.page)
        try expectFieldsInTree(try #require(page.topExamples.first))
        try expectFieldsInTree(index)
        try expectFieldsInTree(table)
        try expectFieldsInTree(task)
        try expectFieldsInTree(try #require(task.methods.first))
        try expectFieldsInTree(head)
        try expectFieldsInTree(nbIndex)
        try expectFieldsInTree(nbSite)
        try expectFieldsInTree(nbQuery)
        try expectFieldsInTree(try #require(nbQuery.decoded.listInside.first))
    }

    @Test func treesHoldPlainValuesAndLeaveNilOut() throws {
        let crumb = try MustacheTree.tree(CrumbView(crumbHref: nil, crumbLabel: "a <b>")).fields
        #expect(crumb.count == 1 && crumb["crumbLabel"] as? String == "a <b>")
        let fact = try MustacheTree.tree(FactView(factLabel: "L", factValue: "1", factHint: "h")).fields
        #expect(fact["factHint"] as? String == "h")
        let findings = SiteFixtures.report()
        let index = try MustacheTree.tree(IndexPageView(findings: findings, title: findings.name, summaryHTML: "")).fields
        #expect(index["hasDictionaries"] as? Bool == true)
        #expect(index["hasCircuits"] as? Bool == !(findings.circuits?.tasks ?? []).isEmpty)
        let empty = try MustacheTree.tree(DistanceListView<RetrievedRowView>(
            listInside: [], listOutside: [], listCount: "", listTotal: "", hasRows: false)).fields
        #expect(empty["hasListInside"] as? Bool == false && empty["hasListOutside"] as? Bool == false)
        let rows = try #require(index["dictionaries"] as? [Any])
        #expect(rows.count == findings.dictionaries.count)
        #expect((rows.first as? MustacheObject)?.fields["dictID"] as? String == findings.dictionaries[0].id)
    }
}
