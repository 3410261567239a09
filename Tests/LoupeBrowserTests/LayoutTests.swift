import Foundation
import Testing

extension BrowserTests {
    /// Every page kind of the demo and hostile sites fits a 390 px wide window: nothing scrolls sideways
    /// but the scrolling containers of wide tables and graphs.
    @Suite struct Layout {
        @Test func pagesFitANarrowWindow() async throws {
            let fixture = try BrowserFixture.required()
            try await fixture.browser.setViewport(width: 390, height: 844)
            for site in [fixture.demo, fixture.hostile] {
                let checker = fixture.checker(site.root)
                for page in site.all {
                    let problem = try await checker.overflow(of: page)
                    #expect(problem == nil, "\(problem.map(String.init(describing:)) ?? "")")
                }
            }
            try await fixture.browser.setViewport(width: 1280, height: 900)
        }
    }
}
