import Foundation
import Testing

extension BrowserTests {
    /// The demo dictionary's feature table in the browser: typing in the filter and clicking each sortable
    /// header give the rows the data calls for, in order.
    @Suite struct FeatureTable {
        /// One entry of `window.LOUPE_FEATURES`: the index, the filter's text and the sortable numbers.
        struct Feature {
            let index: Int
            /// What the filter searches, lower-cased: `#index`, the explanation and the top tokens.
            let haystack: String
            let values: [String: Double]
            let tokens: [String]
        }

        /// Rows the table shows before "Show more".
        static let page = 200

        /// Opens the table at desktop size and reads its data.
        func open() async throws -> (BrowserSession, [Feature]) {
            let fixture = try BrowserFixture.required()
            let table = try #require(fixture.demo.first(.table))
            try await fixture.browser.setViewport(width: 1280, height: 900)
            try await fixture.browser.navigate(to: table)
            let data = try #require(try await fixture.browser.execute("return window.LOUPE_FEATURES;") as? [[String: Any]])
            let features = data.compactMap { entry -> Feature? in
                guard let index = JSONValue.number(entry["i"]).map({ Int($0) }) else { return nil }
                let tokens = JSONValue.strings(entry["t"])
                let explanation = entry["e"] as? String ?? ""
                var values: [String: Double] = ["i": Double(index)]
                for key in ["d", "m", "s"] { values[key] = JSONValue.number(entry[key]) }
                return Feature(index: index, haystack: (["#\(index)", explanation] + tokens).joined(separator: "\n").lowercased(),
                               values: values, tokens: tokens)
            }
            #expect(features.count > Self.page, "the demo's table should need paging")
            return (fixture.browser, features)
        }

        /// Feature indices of the rows shown, top to bottom.
        func shownRows(_ browser: BrowserSession) async throws -> [Int] {
            JSONValue.integers(try await browser.execute(
                "return Array.from(document.querySelectorAll('#features tbody tr')).map(function (tr) { return Number(tr.cells[0].textContent); });"))
        }

        func countText(_ browser: BrowserSession) async throws -> String {
            try await browser.execute("return document.getElementById('count').textContent;") as? String ?? ""
        }

        /// `features` sorted by `key`, features without a value last, ties by index; the first page of them.
        func expected(_ features: [Feature], by key: String, ascending: Bool) -> [Int] {
            features.sorted { a, b in
                switch (a.values[key], b.values[key]) {
                case (nil, nil): return a.index < b.index
                case (nil, _): return false
                case (_, nil): return true
                case let (x?, y?): return x == y ? a.index < b.index : (ascending ? x < y : x > y)
                }
            }.prefix(Self.page).map(\.index)
        }

        @Test func everySortableColumnSortsBothWays() async throws {
            let (browser, features) = try await open()
            var previous = try await shownRows(browser)
            #expect(previous == expected(features, by: "i", ascending: true))
            // A number column sorts largest first on its first click; the index, smallest first.
            let clicks = [("d", false), ("d", true), ("m", false), ("m", true), ("s", false), ("s", true), ("i", true), ("i", false)]
            for (key, ascending) in clicks {
                try await browser.click(try await browser.element("#features button[data-sort=\"\(key)\"]"))
                let rows = try await shownRows(browser)
                #expect(rows == expected(features, by: key, ascending: ascending), "sorted by \(key), ascending: \(ascending)")
                #expect(rows != previous, "clicking \(key) changed no row")
                let sort = try await browser.execute(
                    "return document.querySelector('#features button[data-sort=\"' + arguments[0] + '\"]').parentElement.getAttribute('aria-sort');", [key])
                #expect(sort as? String == (ascending ? "ascending" : "descending"))
                previous = rows
            }
        }

        @Test func theFilterKeepsTheMatchingRows() async throws {
            let (_, features) = try await open()
            // A top token some features have and others lack, then that token with an index prefix, then nothing.
            let tokens = Set(features.flatMap(\.tokens).map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
            let term = try #require(tokens.sorted().first { token in
                let matches = features.filter { $0.haystack.contains(token) }.count
                return token.count >= 3 && token.allSatisfy(\.isLetter) && matches > 1 && matches < features.count / 2
            })
            for query in [term, "\(term) #1", "#4", "zzqqxxjj"] {
                let (browser, _) = try await open()
                try await browser.type(query, into: try await browser.element("#filter"))
                let terms = query.lowercased().split(separator: " ").map(String.init)
                let matching = features.filter { feature in terms.allSatisfy { feature.haystack.contains($0) } }
                #expect(try await shownRows(browser) == expected(matching, by: "i", ascending: true), "filter \(query)")
                #expect(try await countText(browser) == "\(matching.count) of \(features.count) features", "filter \(query)")
                #expect(matching.count < features.count)
            }
        }
    }
}
