import Foundation
import Testing

extension BrowserTests {
    /// Every page kind of the demo site loads without console errors, CSP violations, dialogs or requests
    /// outside the site folder, with one `<h1>`; every link and anchor on it (and on the hostile site) resolves.
    @Suite struct PageHealth {
        @Test func theDemoHasEveryPageKind() throws {
            let fixture = try BrowserFixture.required()
            #expect(fixture.demo.missingKinds.isEmpty, "no page of kind \(fixture.demo.missingKinds)")
        }

        @Test func pagesLoadWithoutErrorsOrOutsideRequests() async throws {
            let fixture = try BrowserFixture.required()
            let checker = fixture.checker(fixture.demo.root)
            try await fixture.browser.setViewport(width: 1280, height: 900)
            for page in fixture.demo.all {
                let problems = try await checker.visit(page)
                #expect(problems.isEmpty, "\(problems)")
            }
        }

        @Test func everyLinkAndAnchorResolves() async throws {
            let fixture = try BrowserFixture.required()
            for site in [fixture.demo, fixture.hostile] {
                let problems = try await fixture.checker(site.root).linkProblems(on: site.all)
                #expect(problems.isEmpty, "\(problems)")
            }
        }
    }
}
