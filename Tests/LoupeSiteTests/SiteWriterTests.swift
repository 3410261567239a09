import Foundation
import LoupeFindings
import Testing
@testable import LoupeSite

@Suite("Site writer")
struct SiteWriterTests: WrittenSiteTests {
    static let csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'\">"

    /// Writes the fixture report into a fresh folder and returns the site folder.
    func writeFixtureSite(_ findings: ReportFindings = SiteFixtures.report(), name: String = "site") throws -> URL {
        let folder = try SiteFixtures.temporaryFolder()
        let site = folder.appendingPathComponent(name, isDirectory: true)
        try SiteWriter.write(findings: findings, summaryMarkdown: SiteFixtures.summary, to: site, resources: SiteFixtures.resources)
        return site
    }

    func htmlPages(_ site: URL) -> [String] {
        SiteFixtures.files(under: site).filter { $0.hasSuffix(".html") }
    }

    @Test func writesEveryPageAndEveryLinkResolves() throws {
        let findings = SiteFixtures.report()
        let site = try writeFixtureSite(findings)
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let files = Set(SiteFixtures.files(under: site))

        var expected = ["index.html", "summary.md", "assets/loupe.css", "assets/table.js", ".loupe-site"]
        for dictionary in findings.dictionaries {
            expected.append("\(dictionary.id)/index.html")
            expected.append("\(dictionary.id)/features.js")
            for feature in dictionary.features { expected.append("\(dictionary.id)/features/\(feature.index).html") }
        }
        for path in expected { #expect(files.contains(path), "missing \(path)") }

        var checked = 0
        for page in htmlPages(site) {
            for link in try SiteOutputScanner.links(in: try text(site, page)) {
                let target = SiteOutputScanner.target(of: link, from: page)
                #expect(target != nil, "\(page): link \(link) is not relative")
                if let target { #expect(files.contains(target), "\(page): link \(link) → \(target) does not exist") }
                checked += 1
            }
        }
        #expect(checked > 100)

        // Feature pages link to their neighbours, the table and the stylesheet.
        let page = try text(site, "blocks.1.hook_resid_post-topk/features/3.html")
        #expect(page.contains("href=\"2.html\" rel=\"prev\""))
        #expect(page.contains("href=\"4.html\" rel=\"next\""))
        #expect(page.contains("href=\"../../assets/loupe.css\""))
        // A dictionary id with a space is percent-encoded in links.
        #expect(try text(site, "index.html").contains("href=\"blocks.0.mlp.hook_post%20neurons/index.html\""))
        // The table page loads its data and the table script with <script src>.
        let table = try text(site, "blocks.1.hook_resid_post-topk/index.html")
        #expect(table.contains("<script src=\"features.js\"></script>"))
        #expect(table.contains("<script src=\"../assets/table.js\"></script>"))
    }

    @Test func outputMakesNoRemoteReference() throws {
        let site = try writeFixtureSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for path in SiteFixtures.files(under: site) where path != "summary.md" {
            let content = try text(site, path)
            #expect(!content.contains("http://"), "\(path) contains http://")
            #expect(!content.contains("https://"), "\(path) contains https://")
            if path.hasSuffix(".html") {
                for link in try SiteOutputScanner.links(in: content) {
                    #expect(!link.hasPrefix("//") && !link.contains(":"), "\(path): link \(link)")
                }
            }
            if path.hasSuffix(".css") {
                #expect(!content.contains("url("), "\(path) loads a url()")
                #expect(!content.contains("@import"), "\(path) imports")
            }
            if path.hasSuffix(".js") {
                for call in ["fetch(", "XMLHttpRequest", "import(", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
                    #expect(!content.contains(call), "\(path) uses \(call)")
                }
            }
        }
    }

    @Test func everyPageCarriesTheContentSecurityPolicy() throws {
        let site = try writeFixtureSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let pages = htmlPages(site)
        #expect(pages.count >= 10)
        for page in pages {
            let html = try text(site, page)
            #expect(html.contains(Self.csp), "\(page) lacks the CSP meta tag")
            #expect(html.hasPrefix("<!DOCTYPE html>"), "\(page) lacks a doctype")
        }
    }

    @Test func noInlineScriptsStylesOrEventHandlers() throws {
        let site = try writeFixtureSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        for page in htmlPages(site) {
            let html = try text(site, page)
            for tag in try SiteOutputScanner.tags(in: html) {
                for attribute in tag.attributes {
                    #expect(!attribute.name.hasPrefix("on"), "\(page): <\(tag.name) \(attribute.name)=…>")
                    #expect(attribute.name != "style", "\(page): inline style on <\(tag.name)>")
                    if attribute.name == "href" || attribute.name == "src" {
                        #expect(!attribute.value.lowercased().hasPrefix("javascript:"), "\(page): \(attribute.value)")
                    }
                }
                #expect(tag.name != "style", "\(page): <style> element")
                #expect(tag.name != "img" && tag.name != "iframe" && tag.name != "object" && tag.name != "embed", "\(page): <\(tag.name)>")
                if tag.name == "script" {
                    #expect(tag.attributes.contains { $0.name == "src" && !$0.value.isEmpty }, "\(page): script without src")
                    #expect(html[tag.range.upperBound...].hasPrefix("</script>"), "\(page): script with an inline body")
                }
            }
        }
    }

    @Test func theIndexIsHeadedByTheReportTitle() throws {
        let folder = try SiteFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = folder.appendingPathComponent("site")
        let findings = SiteFixtures.report()
        try SiteWriter.write(
            findings: findings, summaryMarkdown: SiteFixtures.summary, title: "Features of <b>layer 1</b>", to: site, resources: SiteFixtures.resources)
        let index = try text(site, "index.html")
        #expect(index.contains("<h1>Features of &lt;b&gt;layer 1&lt;/b&gt;</h1>"))
        #expect(index.contains("<title>Features of &lt;b&gt;layer 1&lt;/b&gt; · Loupe</title>"))

        try SiteWriter.write(findings: findings, summaryMarkdown: SiteFixtures.summary, to: site, resources: SiteFixtures.resources)
        #expect(try text(site, "index.html").contains("<h1>toy &lt;b&gt;report&lt;/b&gt;</h1>"), "without a title, the report's name")
    }

    @Test func hostileStringsRenderInert() throws {
        let site = try writeFixtureSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let hostilePage = try text(site, "blocks.1.hook_resid_post-topk/features/1.html")
        let neuronPage = try text(site, "blocks.0.mlp.hook_post neurons/features/7.html")
        let index = try text(site, "index.html")

        for page in htmlPages(site) {
            let html = try text(site, page)
            let lower = html.lowercased()
            #expect(!lower.contains("<script>"), "\(page): bare <script>")
            #expect(!lower.contains("<img"), "\(page): <img")
            #expect(!lower.contains("</textarea>"), "\(page): </textarea>")
            #expect(!lower.contains("<b>"), "\(page): <b> from the report name")
            #expect(!html.unicodeScalars.contains { (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) },
                    "\(page): raw bidi control")
            // Mustache syntax appears only as data ({{mustache}}, {{{triple}}}), never as an unrendered tag.
            #expect(!["{{#", "{{/", "{{^", "{{>", "{{page", "{{exTokensHTML"].contains { html.contains($0) }, "\(page): unrendered tag")
        }
        // Hostile tokens are shown, escaped, inside the examples' token runs.
        #expect(hostilePage.contains("\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"))
        #expect(hostilePage.contains("\">{{mustache}}</span>"))
        #expect(hostilePage.contains("\">⟨U+202E⟩evil</span>"))
        // Escaped forms appear where the data is shown.
        #expect(hostilePage.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(hostilePage.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(hostilePage.contains("&lt;/textarea&gt;"))
        #expect(hostilePage.contains("{{mustache}}"))
        #expect(hostilePage.contains("{{{triple}}}"))
        #expect(hostilePage.contains("⟨U+202E⟩evil"))
        #expect(hostilePage.contains("\u{FFFD}"))
        #expect(hostilePage.contains("&#39; onmouseover=&#39;alert(3)"))
        #expect(hostilePage.contains("&amp;amp;"))
        #expect(neuronPage.contains("⟨U+202E⟩evil"))
        #expect(index.contains("corpus/{{mustache}}.jsonl"))
        #expect(index.contains("model⟨U+202E⟩txt.exe&quot;&gt;&lt;script&gt;x&lt;/script&gt;"))
        #expect(index.contains("toy &lt;b&gt;report&lt;/b&gt;"))
        #expect(index.contains("blocks.0.mlp.hook_post&lt;script&gt;alert(4)&lt;/script&gt;"))
        // Markdown: raw HTML is not passed through, script links are dropped, remote images become text.
        #expect(!index.contains("alert(\"raw html\")"))
        #expect(!index.contains("javascript:"))
        #expect(index.contains("remote"))
        // The summary's own title is left out of the index, whose one level-1 heading is the page's.
        #expect(!index.contains("<h1>Toy report</h1>"))
        #expect(index.components(separatedBy: "<h1").count == 2)
        // summary.md is copied as written.
        #expect(try text(site, "summary.md") == SiteFixtures.summary)
    }

    @Test func tableDataIsEncodedJSONAssignedToAGlobal() throws {
        let site = try writeFixtureSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let script = try text(site, "blocks.1.hook_resid_post-topk/features.js")
        let prefix = "window.LOUPE_FEATURES = "
        #expect(script.hasPrefix(prefix))
        #expect(script.hasSuffix(";\n"))
        let json = script.dropFirst(prefix.count).dropLast(2)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(rows.count == 6)
        #expect(rows.map { $0["i"] as? Int } == [0, 1, 2, 3, 4, 5])
        let hostile = try #require(rows[1]["e"] as? String)
        #expect(hostile.contains("<script>alert(1)</script>"))  // data stays data; the table sets textContent
        #expect(hostile.contains("⟨U+202E⟩evil"))
        #expect(rows[2]["e"] == nil)  // absent: no explanation
        #expect((rows[1]["t"] as? [String])?.contains("{{mustache}}") == true)
    }

    @Test func twoWritesAreByteIdentical() throws {
        let findings = SiteFixtures.report()
        let first = try writeFixtureSite(findings)
        let second = try writeFixtureSite(findings)
        defer {
            try? FileManager.default.removeItem(at: first.deletingLastPathComponent())
            try? FileManager.default.removeItem(at: second.deletingLastPathComponent())
        }
        let files = SiteFixtures.files(under: first)
        #expect(files == SiteFixtures.files(under: second))
        for path in files {
            #expect(try Data(contentsOf: first.appendingPathComponent(path)) == Data(contentsOf: second.appendingPathComponent(path)), "\(path) differs")
        }
        // Writing again over the same destination replaces it with the same bytes.
        try SiteWriter.write(findings: findings, summaryMarkdown: SiteFixtures.summary, to: first, resources: SiteFixtures.resources)
        for path in files {
            #expect(try Data(contentsOf: first.appendingPathComponent(path)) == Data(contentsOf: second.appendingPathComponent(path)), "\(path) differs after rewrite")
        }
        // No temporary folders are left next to the site.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: first.deletingLastPathComponent().path)
        #expect(siblings == ["site"])
    }

    /// Snapshot of every file's bytes, to check a site was left untouched.
    func snapshot(_ site: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for path in SiteFixtures.files(under: site) { out[path] = try Data(contentsOf: site.appendingPathComponent(path)) }
        return out
    }

    /// A copy of the repository's templates and assets that a test may break.
    func copyOfResources() throws -> (root: URL, resources: SiteResources) {
        let root = try SiteFixtures.temporaryFolder()
        try FileManager.default.copyItem(at: SiteFixtures.resources.templates, to: root.appendingPathComponent("Templates"))
        try FileManager.default.copyItem(at: SiteFixtures.resources.assets, to: root.appendingPathComponent("Assets"))
        return (root, SiteResources(root: root))
    }

    @Test func brokenTemplateLeavesPreviousSiteIntact() throws {
        let site = try writeFixtureSite()
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let before = try snapshot(site)
        let (root, resources) = try copyOfResources()
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("{{#explanation}}unclosed".utf8).write(to: resources.templates.appendingPathComponent("atlas-feature.mustache"))

        let changed = ReportFindings(name: "changed", model: SiteFixtures.report().model, corpus: SiteFixtures.report().corpus, dictionaries: [])
        #expect {
            try SiteWriter.write(findings: changed, summaryMarkdown: "# changed", to: site, resources: resources)
        } throws: { error in
            guard let error = error as? SiteError else { return false }
            return error.step == .loadTemplates && error.path.hasSuffix("atlas-feature.mustache")
        }
        #expect(try snapshot(site) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: site.deletingLastPathComponent().path) == ["site"])
    }

    @Test func missingPartialIsATemplateError() throws {
        let (root, resources) = try copyOfResources()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.removeItem(at: resources.templates.appendingPathComponent("atlas-example.mustache"))
        let out = root.appendingPathComponent("site")
        #expect {
            try SiteWriter.write(findings: SiteFixtures.report(), summaryMarkdown: "", to: out, resources: resources)
        } throws: { error in
            (error as? SiteError)?.step == .loadTemplates && (error as? SiteError)?.reason.contains("example") == true
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func failureDuringRenderingLeavesPreviousSiteIntact() throws {
        let site = try writeFixtureSite()
        let parent = site.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: parent) }
        let before = try snapshot(site)

        for failing in [SiteStep.copyAssets, .renderIndex, .renderFeaturePages] {
            var writer = SiteWriter(resources: SiteFixtures.resources)
            writer.afterStep = { step, staging in
                #expect(FileManager.default.fileExists(atPath: staging.path))
                if step == failing { throw SiteError.fileSystem(step: step, path: staging.path, reason: "injected") }
            }
            var changed = SiteFixtures.report(featureCount: 3)
            changed.name = "changed"
            #expect(throws: SiteError.self) {
                try writer.write(findings: changed, summaryMarkdown: "# changed", to: site)
            }
            #expect(try snapshot(site) == before, "site changed after a failure in \(failing)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["site"], "temporary folder left after \(failing)")
        }
    }

    @Test func unwritableDestinationParentFailsCleanly() throws {
        let folder = try SiteFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A parent that is a regular file cannot hold the temporary folder, whoever runs the test.
        let file = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        #expect {
            try SiteWriter.write(findings: SiteFixtures.report(), summaryMarkdown: "", to: file.appendingPathComponent("site"), resources: SiteFixtures.resources)
        } throws: { error in
            (error as? SiteError)?.step == .prepareStaging
        }

        // A read-only parent (effective only when not running as root).
        let site = try writeFixtureSite()
        let parent = site.deletingLastPathComponent()
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: parent.path)
            try? FileManager.default.removeItem(at: parent)
        }
        let before = try snapshot(site)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: parent.path)
        if getuid() != 0 {
            #expect(throws: SiteError.self) {
                try SiteWriter.write(findings: SiteFixtures.report(featureCount: 2), summaryMarkdown: "", to: site, resources: SiteFixtures.resources)
            }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: parent.path)
        if getuid() != 0 { #expect(try snapshot(site) == before) }
    }

    @Test func refusesToReplaceAFolderLoupeDidNotWrite() throws {
        let folder = try SiteFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let precious = folder.appendingPathComponent("Documents")
        try FileManager.default.createDirectory(at: precious, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: precious.appendingPathComponent("thesis.tex"))
        #expect {
            try SiteWriter.write(findings: SiteFixtures.report(), summaryMarkdown: "", to: precious, resources: SiteFixtures.resources)
        } throws: { error in
            if case .destinationNotASite = error as? SiteError { return true }
            return false
        }
        #expect(try String(contentsOf: precious.appendingPathComponent("thesis.tex"), encoding: .utf8) == "keep me")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["Documents"])
    }

    @Test func rejectsDictionaryIDsThatAreNotFolderNames() throws {
        let folder = try SiteFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for id in ["", ".", "..", "../escape", "a/b", "assets", "index.html", ".hidden"] {
            let findings = ReportFindings(
                name: "r", model: SiteFixtures.report().model, corpus: SiteFixtures.report().corpus,
                dictionaries: [SiteFixtures.dictionary(id: id, features: [SiteFixtures.feature(index: 0, count: 1, seed: 1)])]
            )
            #expect(throws: SiteError.self, "id \(id)") {
                try SiteWriter.write(findings: findings, summaryMarkdown: "", to: folder.appendingPathComponent("site"), resources: SiteFixtures.resources)
            }
        }
        let feature = SiteFixtures.feature(index: 0, count: 1, seed: 1)
        let duplicates = ReportFindings(
            name: "r", model: SiteFixtures.report().model, corpus: SiteFixtures.report().corpus,
            dictionaries: [SiteFixtures.dictionary(id: "d", features: [feature, feature])]
        )
        #expect(throws: SiteError.self) {
            try SiteWriter.write(findings: duplicates, summaryMarkdown: "", to: folder.appendingPathComponent("site"), resources: SiteFixtures.resources)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func medianFeaturePageIsUnder40KB() throws {
        let count = 20
        let features = (0..<count).map { SiteFixtures.feature(index: $0, count: count, seed: 99) }
        let findings = ReportFindings(
            name: "sizes", model: SiteFixtures.report().model, corpus: SiteFixtures.report().corpus,
            dictionaries: [SiteFixtures.dictionary(id: "d", features: features)]
        )
        let site = try writeFixtureSite(findings)
        defer { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
        let page = try text(site, "d/features/0.html")
        #expect(page.components(separatedBy: "<div class=\"ex\">").count - 1 == 70)
        #expect(page.components(separatedBy: "<span class=\"a").count - 1 > 70)
        let sizes = try (0..<count).map { index -> Int in
            let attributes = try FileManager.default.attributesOfItem(atPath: site.appendingPathComponent("d/features/\(index).html").path)
            return (attributes[.size] as? NSNumber)?.intValue ?? Int.max
        }.sorted()
        let median = sizes[count / 2]
        print("feature page sizes (bytes): min \(sizes[0]), median \(median), max \(sizes[count - 1])")
        #expect(median < 40_000)
    }

    @Test func resourcesCanBeOverriddenFromTheEnvironment() {
        let standard = SiteResources.standard(environment: [:])
        #expect(standard.templates.lastPathComponent == "Templates")
        #expect(FileManager.default.fileExists(atPath: standard.templates.appendingPathComponent("atlas-feature.mustache").path))
        #expect(FileManager.default.fileExists(atPath: standard.assets.appendingPathComponent("loupe.css").path))
        let custom = SiteResources.standard(environment: ["LOUPE_RESOURCES": "/opt/loupe"])
        #expect(custom.templates.path == "/opt/loupe/Templates")
        #expect(custom.assets.path == "/opt/loupe/Assets")
        #expect(throws: SiteError.self) { try SiteResources(root: URL(fileURLWithPath: "/nonexistent-loupe")).validate() }
    }
}
