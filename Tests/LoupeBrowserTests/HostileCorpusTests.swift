import Foundation
import Testing

extension BrowserTests {
    /// The report over a corpus of markup, Mustache markers, `javascript:` URLs, an RTL override and
    /// invalid UTF-8: no script from the data runs on any page, and the payloads read as text.
    @Suite struct HostileCorpus {
        /// Every page of the hostile site: the page kinds and every feature page.
        func pages() throws -> [URL] {
            let fixture = try BrowserFixture.required()
            let features = try fixture.hostile.pages[.table, default: []].flatMap { table in
                try FileManager.default.contentsOfDirectory(at: table.deletingLastPathComponent().appendingPathComponent("features"), includingPropertiesForKeys: nil)
                    .filter { $0.pathExtension == "html" }
                    .sorted { $0.lastPathComponent < $1.lastPathComponent }
            }
            return fixture.hostile.all + features.filter { !fixture.hostile.all.contains($0) }
        }

        @Test func noScriptFromTheDataRuns() async throws {
            let fixture = try BrowserFixture.required()
            let checker = fixture.checker(fixture.hostile.root)
            let pages = try pages()
            #expect(pages.count > 20)
            for page in pages {
                let problems = try await checker.visit(page)
                #expect(problems.isEmpty, "\(problems)")
                #expect(try await fixture.browser.alertText() == nil, "a dialog is open on \(checker.name(page))")
                // No element from the data: scripts are the site's own files, no handler attributes, no javascript: links.
                let foreign = JSONValue.strings(try await fixture.browser.execute("""
                    var out = [];
                    document.querySelectorAll('*').forEach(function (e) {
                      Array.from(e.attributes).forEach(function (a) {
                        if (/^on/i.test(a.name)) { out.push(e.tagName + ' ' + a.name); }
                        if (/^\\s*javascript:/i.test(a.value)) { out.push(e.tagName + ' ' + a.name + '=' + a.value); }
                      });
                    });
                    document.querySelectorAll('script').forEach(function (s) {
                      if (!s.src || !/(assets\\/table\\.js|features\\.js)$/.test(s.src)) { out.push('script ' + (s.src || s.textContent)); }
                    });
                    document.querySelectorAll('img, iframe, object, embed, textarea').forEach(function (e) { out.push(e.tagName); });
                    return out;
                    """))
                #expect(foreign.isEmpty, "\(checker.name(page)): \(foreign)")
            }
        }

        @Test func thePayloadsReadAsText() async throws {
            let fixture = try BrowserFixture.required()
            var text = ""
            for page in try pages() {
                try await fixture.browser.navigate(to: page)
                text += try await fixture.browser.execute("return document.body.innerText;") as? String ?? ""
                text += "\n"
            }
            // Example contexts show a space as ␣ and at most 15 tokens, so the longer payloads show in parts.
            let shown = text.replacingOccurrences(of: "␣", with: " ")
            for payload in ["<script>alert(1)", "alert(1)</script>", "<img src=x onerror", "onerror=alert(2)>", "</textarea>",
                            "{{x}}", "{{{y}}}", "javascript:", "script:alert(3)"] {
                let found = shown.contains(payload)
                #expect(found, "\(payload) is not shown as text")
            }
            let override = text.unicodeScalars.contains("\u{202E}")
            #expect(!override, "the RTL override reaches the page unescaped")
        }
    }
}
