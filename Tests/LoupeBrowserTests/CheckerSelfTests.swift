import Foundation
import Testing

extension BrowserTests {
    /// The page checks fail when they should: deliberately broken pages, written here, are reported by the
    /// same functions that pass the sites, and a sound page beside them is not.
    @Suite struct CheckerSelfTests {
        /// The site's Content Security Policy, as `Templates/head.mustache` writes it.
        static let policy = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self'\">"

        static let pages = [
            "sound.html": "<!DOCTYPE html><html lang=\"en\"><head>\(policy)<title>sound</title></head><body><h1 id=\"here\">sound</h1><a href=\"sound.html#here\">here</a></body></html>",
            "console.html": "<!DOCTYPE html><html><head><title>console</title></head><body><script>console.error('deliberate error');</script></body></html>",
            "policy.html": "<!DOCTYPE html><html><head>\(policy)<title>policy</title></head><body><script>document.title = 'ran';</script></body></html>",
            "outside.html": "<!DOCTYPE html><html><head><title>outside</title></head><body><img src=\"http://127.0.0.1:9/x.png\" alt=\"\"></body></html>",
            "dialog.html": "<!DOCTYPE html><html><head><title>dialog</title></head><body><script>alert('deliberate dialog');</script></body></html>",
            "links.html": """
                <!DOCTYPE html><html><head><title>links</title></head><body>
                <a href="missing.html">missing</a> <a href="sound.html#nowhere">no such id</a> <a href="sound.html#here">sound</a>
                <a href="folder/">folder</a> <a href="javascript:void(0)">script</a> <a href="http://127.0.0.1:9/">outside</a>
                </body></html>
                """,
            "headings.html": "<!DOCTYPE html><html><head><title>headings</title></head><body><h1>one</h1><h1>two</h1></body></html>",
            "wide.html": "<!DOCTYPE html><html><head><title>wide</title></head><body><div style=\"width: 1000px\">wide</div></body></html>",
        ]

        /// Writes the pages into a fresh folder of the fixture's and returns a checker for it.
        func brokenSite() throws -> (PageChecker, URL) {
            let fixture = try BrowserFixture.required()
            let folder = fixture.folder.appendingPathComponent("broken-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("folder"), withIntermediateDirectories: true)
            for (name, html) in Self.pages {
                try Data(html.utf8).write(to: folder.appendingPathComponent(name))
            }
            return (fixture.checker(folder), folder)
        }

        @Test func visitsReportConsoleErrorsPolicyViolationsOutsideRequestsDialogsAndHeadings() async throws {
            let (checker, folder) = try brokenSite()
            try await checker.browser.setViewport(width: 1280, height: 900)
            #expect(try await checker.visit(folder.appendingPathComponent("sound.html")) == [])
            let console = try await checker.visit(folder.appendingPathComponent("console.html"))
            #expect(console.contains { $0.kind == .consoleError && $0.detail.contains("deliberate error") }, "\(console)")
            let policy = try await checker.visit(folder.appendingPathComponent("policy.html"))
            #expect(policy.contains { $0.kind == .consoleError && $0.detail.contains("Content Security Policy") }, "\(policy)")
            let outside = try await checker.visit(folder.appendingPathComponent("outside.html"))
            #expect(outside.contains { $0.kind == .outsideRequest && $0.detail == "http://127.0.0.1:9/x.png" }, "\(outside)")
            let dialog = try await checker.visit(folder.appendingPathComponent("dialog.html"))
            #expect(dialog.contains(PageProblem(kind: .dialog, page: "dialog.html", detail: "deliberate dialog")), "\(dialog)")
            #expect(try await checker.browser.alertText() == nil, "the checks dismiss the dialogs they find")
            let headings = try await checker.visit(folder.appendingPathComponent("headings.html"))
            #expect(headings == [PageProblem(kind: .headings, page: "headings.html", detail: "2 <h1> elements")])
        }

        @Test func linkChecksReportMissingFilesIdsFoldersAndOtherSchemes() async throws {
            let (checker, folder) = try brokenSite()
            let problems = try await checker.linkProblems(on: [folder.appendingPathComponent("links.html"), folder.appendingPathComponent("sound.html")])
            #expect(problems.allSatisfy { $0.kind == .brokenLink && $0.page == "links.html" }, "\(problems)")
            let details = problems.map(\.detail)
            for expected in ["missing.html: no such file", "sound.html#nowhere: no such id", "/folder/ is a folder", "javascript:void(0) is outside the site",
                             "http://127.0.0.1:9/ is outside the site"] {
                #expect(details.contains { $0.hasSuffix(expected) }, "\(expected) in \(details)")
            }
            #expect(problems.count == 5, "\(problems)")
        }

        @Test func overflowIsReportedAtANarrowWidth() async throws {
            let (checker, folder) = try brokenSite()
            try await checker.browser.setViewport(width: 390, height: 844)
            let wide = try await checker.overflow(of: folder.appendingPathComponent("wide.html"))
            let sound = try await checker.overflow(of: folder.appendingPathComponent("sound.html"))
            try await checker.browser.setViewport(width: 1280, height: 900)
            #expect(wide?.kind == .overflow)
            #expect(sound == nil)
        }
    }
}
