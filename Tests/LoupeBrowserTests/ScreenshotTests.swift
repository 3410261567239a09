import Foundation
import Testing

extension BrowserTests {
    /// A screenshot of each page kind of the demo at 1280 × 900, and of a feature page at 390 px wide,
    /// written as `<kind>.png` (and `feature-390.png`) into the folder `LOUPE_SCREENSHOTS` names, when it is set.
    @Suite struct Screenshots {
        static let folderVariable = "LOUPE_SCREENSHOTS"

        /// The page shown for `kind`: the IOI task's when there is one (the README's circuit figure), else the first.
        func page(_ kind: SitePages.Kind, of site: SitePages) -> URL? {
            site.pages[kind]?.first { $0.pathComponents.contains("ioi") } ?? site.first(kind)
        }

        /// The width of a PNG, from its header; `nil` when `data` is no PNG.
        func pngWidth(_ data: Data) -> Int? {
            let bytes = [UInt8](data.prefix(24))
            guard bytes.count == 24, bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { return nil }
            return bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        }

        @Test func everyPageKindIsCaptured() async throws {
            let fixture = try BrowserFixture.required()
            let folder = ProcessInfo.processInfo.environment[Self.folderVariable].map { URL(fileURLWithPath: $0, isDirectory: true) }
            if let folder { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            var shots: [(name: String, page: URL, width: Int)] = SitePages.Kind.allCases.compactMap { kind in
                page(kind, of: fixture.demo).map { (kind.rawValue, $0, 1280) }
            }
            shots.append(("feature-390", try #require(fixture.demo.first(.feature)), 390))
            for shot in shots {
                try await fixture.browser.setViewport(width: shot.width, height: shot.width == 390 ? 844 : 900)
                try await fixture.browser.navigate(to: shot.page)
                let png = try await fixture.browser.screenshot()
                #expect(pngWidth(png) == shot.width, "\(shot.name)")
                if let folder { try png.write(to: folder.appendingPathComponent(shot.name + ".png")) }
            }
            try await fixture.browser.setViewport(width: 1280, height: 900)
        }
    }
}
