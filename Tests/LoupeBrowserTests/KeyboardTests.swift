import Foundation
import Testing

extension BrowserTests {
    /// The Tab key alone reaches the table's filter, its sort buttons and the links of every page kind.
    @Suite struct Keyboard {
        /// The focused element after each of up to `limit` Tab presses from a freshly loaded `page`
        /// (tag, id, `data-sort` and resolved `href`, as `tag#id[sort](href)`), stopping once `done` says so.
        func tabThrough(_ page: URL, limit: Int, until done: ([String]) -> Bool) async throws -> [String] {
            let fixture = try BrowserFixture.required()
            try await fixture.browser.setViewport(width: 1280, height: 900)
            try await fixture.browser.navigate(to: page)
            var focused: [String] = []
            while focused.count < limit, !done(focused) {
                try await fixture.browser.press(BrowserSession.tab)
                focused.append(try await fixture.browser.execute("""
                    var e = document.activeElement;
                    if (!e || e === document.body) { return ''; }
                    var href = e.getAttribute('href');
                    return e.tagName.toLowerCase() + '#' + e.id + '[' + (e.getAttribute('data-sort') || '') + ']('
                      + (href === null ? '' : new URL(href, document.baseURI).href) + ')';
                    """) as? String ?? "")
            }
            return focused
        }

        @Test func tabReachesTheFilterTheSortButtonsAndTheFeatureLinks() async throws {
            let fixture = try BrowserFixture.required()
            let table = try #require(fixture.demo.first(.table))
            let wanted = ["input#filter[]", "button#[i]", "button#[d]", "button#[m]", "button#[s]"]
            func reached(_ focused: [String]) -> Bool {
                wanted.allSatisfy { w in focused.contains { $0.hasPrefix(w) } } && focused.contains { $0.contains("/features/") }
            }
            let focused = try await tabThrough(table, limit: 40, until: reached)
            #expect(reached(focused), "focused in turn: \(focused)")
            let filter = try #require(focused.firstIndex { $0.hasPrefix("input#filter") })
            let lastButton = try #require(focused.lastIndex { $0.hasPrefix("button#[") })
            let firstFeature = try #require(focused.firstIndex { $0.contains("/features/") })
            #expect(filter < lastButton && lastButton < firstFeature, "focused in turn: \(focused)")
        }

        @Test(arguments: SitePages.Kind.allCases.filter { $0 != .summary })
        func tabReachesTheFirstLinksOfEveryPageKind(kind: SitePages.Kind) async throws {
            let fixture = try BrowserFixture.required()
            let page = try #require(fixture.demo.first(kind))
            try await fixture.browser.navigate(to: page)
            // The first visible links in document order, resolved.
            let links = JSONValue.strings(try await fixture.browser.execute("""
                return Array.from(document.querySelectorAll('a[href]')).filter(function (a) {
                  return a.getClientRects().length > 0;
                }).slice(0, 6).map(function (a) { return new URL(a.getAttribute('href'), document.baseURI).href; });
                """))
            #expect(!links.isEmpty)
            func reached(_ focused: [String]) -> Bool { links.allSatisfy { link in focused.contains { $0.hasSuffix("(\(link))") } } }
            let focused = try await tabThrough(page, limit: 60, until: reached)
            #expect(reached(focused), "links \(links); focused in turn: \(focused)")
            #expect(focused.first?.hasPrefix("a#") == true && focused.first?.hasSuffix("index.html)") == true, "the first Tab focuses the Loupe link: \(focused)")
        }
    }
}
