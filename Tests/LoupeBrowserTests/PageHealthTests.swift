import Foundation
import Testing

extension BrowserTests {
    /// Every page kind of the demo site loads without console errors, CSP violations, dialogs or requests
    /// outside the site folder, and every link and anchor on it resolves.
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
            let problems = try await fixture.checker(fixture.demo.root).linkProblems(on: fixture.demo.all)
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
