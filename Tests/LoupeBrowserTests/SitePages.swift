import Foundation

/// The pages of a built site by kind, found in its folder: every page of the few-of-a-kind pages, and the
/// first and last of the many (feature, circuit node, query and subspace pages) in each folder.
struct SitePages: Sendable {
    /// A kind of page, named as its screenshot is (`table` → `table.png`).
    enum Kind: String, CaseIterable, Sendable {
        case index, summary, table, feature, circuit
        case circuitNode = "circuit-node"
        case neighbourhoods
        case neighbourhoodSite = "neighbourhood-site"
        case neighbourhoodQuery = "neighbourhood-query"
        case subspaces
        case subspaceSite = "subspace-site"
        case subspace
    }

    let root: URL
    let pages: [Kind: [URL]]

    init(root: URL) throws {
        self.root = root
        var pages: [Kind: [URL]] = [.index: [root.appendingPathComponent("index.html")], .summary: [root.appendingPathComponent("summary.md")]]
        for folder in try Self.folders(in: root) where Self.exists(folder.appendingPathComponent("features.js")) {
            pages[.table, default: []].append(folder.appendingPathComponent("index.html"))
            let features = try Self.htmlFiles(in: folder.appendingPathComponent("features"))
                .sorted { Int($0.deletingPathExtension().lastPathComponent) ?? 0 < Int($1.deletingPathExtension().lastPathComponent) ?? 0 }
            pages[.feature, default: []] += Self.ends(features)
        }
        for (folder, kind, leaf) in [
            ("circuits", Kind.circuit, Kind.circuitNode), ("neighbourhoods", .neighbourhoodSite, .neighbourhoodQuery), ("subspaces", .subspaceSite, .subspace),
        ] {
            let parent = root.appendingPathComponent(folder)
            guard Self.exists(parent) else { continue }
            if kind == .neighbourhoodSite { pages[.neighbourhoods] = [parent.appendingPathComponent("index.html")] }
            if kind == .subspaceSite { pages[.subspaces] = [parent.appendingPathComponent("index.html")] }
            for site in try Self.folders(in: parent) {
                pages[kind, default: []].append(site.appendingPathComponent("index.html"))
                pages[leaf, default: []] += Self.ends(try Self.htmlFiles(in: site).filter { $0.lastPathComponent != "index.html" })
            }
        }
        self.pages = pages
    }

    /// Every page found, kind by kind.
    var all: [URL] { Kind.allCases.flatMap { pages[$0] ?? [] } }

    /// The kinds of which the site has no page.
    var missingKinds: [Kind] { Kind.allCases.filter { (pages[$0] ?? []).isEmpty } }

    /// The first page of `kind`.
    func first(_ kind: Kind) -> URL? { pages[kind]?.first }

    private static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// The first and the last of `urls` (one when there is one).
    private static func ends(_ urls: [URL]) -> [URL] {
        guard let first = urls.first, let last = urls.last else { return [] }
        return first == last ? [first] : [first, last]
    }

    /// The sub-folders of `folder` (hidden ones and `assets` left out), by name.
    private static func folders(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey], options: [.skipsHiddenFiles])
            .filter { try $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory == true && $0.lastPathComponent != "assets" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The `.html` files directly in `folder`, by name.
    private static func htmlFiles(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "html" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
