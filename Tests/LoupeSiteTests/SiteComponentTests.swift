import Foundation
import LoupeAnalysis
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
        #expect(ViewModelBuilder.shade(0, scale: 2) == nil)
        #expect(ViewModelBuilder.shade(-1, scale: 2) == nil)
        #expect(ViewModelBuilder.shade(.nan, scale: 2) == nil)
        #expect(ViewModelBuilder.shade(0.001, scale: 2) == 1)
        #expect(ViewModelBuilder.shade(1, scale: 2) == 5)
        #expect(ViewModelBuilder.shade(2, scale: 2) == 9)
        #expect(ViewModelBuilder.shade(5, scale: 2) == 9)
    }

    @Test func examplesToleratePartialData() {
        // Fewer activations than tokens and a focus outside the window must not trap.
        let example = ActivationExample(document: 1, position: 2, tokens: ["a", "b", "c"], activations: [1], focus: 9)
        let view = ViewModelBuilder.example(example, scale: 1)
        #expect(view.tokens.count == 3)
        #expect(view.tokens[0].tokClass == "a9")
        #expect(view.tokens[1].plain && view.tokens[1].tokClass.isEmpty && view.tokens[1].tokTitle.isEmpty)
        #expect(view.exValue == "0")
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
        let view = ViewModelBuilder.example(example, scale: 2)
        #expect(view.exTokensHTML == " a<span class=\"a9 f\" title=\"2.000\">&lt;script&gt;</span>&quot;&gt;&lt;img src=x onerror=y&gt;<span class=\"a5\" title=\"1.000\">⟨U+202E⟩</span><span title=\"-0.5000\">{{m}}</span>")
        #expect(view.exValue == "2.00")
        #expect(view.exWhere == "doc 3 · pos 9")
    }
}

@Suite("Site view models")
struct SiteViewModelTests {
    /// Every stored field of `value` must be answered by its Mustache look-up, or templates would
    /// silently render nothing for it.
    func expectLookupsCoverFields(_ value: some MustacheParentProbe, file: String = #fileID) {
        for child in Mirror(reflecting: value).children {
            guard let label = child.label else { continue }
            let isNil = Mirror(reflecting: child.value).displayStyle == .optional && Mirror(reflecting: child.value).children.isEmpty
            #expect(isNil || value.lookup(label) != nil, "\(type(of: value)).\(label) is not answered")
        }
    }

    @Test func everyFieldIsVisibleToTemplates() throws {
        let findings = SiteFixtures.report()
        let dictionary = findings.dictionaries[0]
        let features = dictionary.features
        let page = ViewModelBuilder.featurePage(features[1], dictionary: dictionary, findings: findings,
                                                previous: features[0], next: features[2], existing: Set(features.map(\.index)))
        expectLookupsCoverFields(page)
        expectLookupsCoverFields(page.page)
        try expectLookupsCoverFields(#require(page.page.crumbs.first))
        try expectLookupsCoverFields(#require(page.explanation))
        try expectLookupsCoverFields(#require(page.stats.first))
        let logit = try #require(page.logit)
        expectLookupsCoverFields(logit)
        try expectLookupsCoverFields(#require(logit.promoted.first))
        try expectLookupsCoverFields(#require(page.topExamples.first))
        try expectLookupsCoverFields(#require(page.topExamples.first?.tokens.first))
        try expectLookupsCoverFields(#require(page.intervals.first))
        try expectLookupsCoverFields(#require(page.neighbours.first))
        let index = ViewModelBuilder.index(findings: findings, summaryHTML: "<p>x</p>")
        expectLookupsCoverFields(index)
        try expectLookupsCoverFields(#require(index.dictionaries.first))
        let table = ViewModelBuilder.dictionaryPage(dictionary, findings: findings)
        expectLookupsCoverFields(table)
        try expectLookupsCoverFields(#require(table.page.scripts.first))
    }
}

/// The view models' Mustache look-up, under a name the test can call.
protocol MustacheParentProbe {
    func lookup(_ name: String) -> Any?
}

extension CrumbView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension ScriptView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension FactView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension PageChrome: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension DictionaryView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension IndexPageView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension DictionaryPageView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension TokenView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension ExampleView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension IntervalView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension WeightView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension LogitView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension LinkView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension ExplanationView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
extension FeaturePageView: MustacheParentProbe { func lookup(_ name: String) -> Any? { child(named: name) } }
