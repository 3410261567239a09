import Foundation

/// File names inside a site and the relative links between them.
///
/// ```
/// index.html                         report summary and dictionaries
/// summary.md                         the summary's Markdown, as written
/// assets/                            copied from Assets/ (CSS, JavaScript)
/// <dict-id>/index.html               feature table
/// <dict-id>/features.js              table data: window.LOUPE_FEATURES = [...]
/// <dict-id>/features/<index>.html    one page per feature
/// circuits/<slug>/index.html         a circuit task: graph, methods, AUC table, ground truth
/// circuits/<slug>/<node>.html        one page per head (`a1.h2.html`) and MLP (`m0.html`)
/// circuits/<slug>/summary.md         the task's Markdown summary
/// circuits/<slug>/graph.json         the circuit in circuit-tracer's graph format
/// neighbourhoods/index.html          the inversion decoder and the sites of decoded neighbourhoods
/// neighbourhoods/<slug>/index.html   a site's queries
/// neighbourhoods/<slug>/<id>.html    one page per query: the query, what its ε-preimage shares,
///                                    retrieved corpus positions and decoded samples
/// subspaces/index.html               the sites of learned subspaces (NDM)
/// subspaces/<slug>/index.html        a site's partition, training and causal checks
/// subspaces/<slug>/s<n>.html         one page per subspace: queries, neighbours, effects
/// ```
enum SitePaths {
    static let assets = "assets"
    static let index = "index.html"
    static let summary = "summary.md"
    static let featureData = "features.js"
    static let featureFolder = "features"
    static let circuits = "circuits"
    static let circuitGraph = "graph.json"
    static let neighbourhoods = "neighbourhoods"
    static let subspaces = "subspaces"
    /// A marker file: a folder holding it was written by Loupe and may be replaced by a new site.
    static let marker = ".loupe-site"

    /// Names at the site's top level that a dictionary id must not take.
    static let reserved: Set<String> = [assets, index, summary, marker, circuits, neighbourhoods, subspaces]

    /// Why `id` cannot name a folder of the site, or `nil` if it can.
    static func problem(withDictionaryID id: String) -> String? {
        if let problem = problem(withFolderName: id, naming: "dictionary id") { return problem }
        if reserved.contains(id) { return "dictionary id \"\(id)\" is reserved for the site's own files" }
        return nil
    }

    /// Why `slug` cannot name a circuit task's folder (`circuits/<slug>/`), or `nil` if it can.
    static func problem(withTaskSlug slug: String) -> String? {
        problem(withFolderName: slug, naming: "circuit task slug")
    }

    /// Why `slug` cannot name a neighbourhood site's folder (`neighbourhoods/<slug>/`), or `nil` if it can.
    static func problem(withSiteSlug slug: String) -> String? {
        problem(withFolderName: slug, naming: "neighbourhood site slug")
    }

    /// Why `id` cannot name a query's page (`neighbourhoods/<slug>/<id>.html`), or `nil` if it can.
    static func problem(withQueryID id: String) -> String? {
        if let problem = problem(withFolderName: id, naming: "neighbourhood query id") { return problem }
        if id == "index" { return "neighbourhood query id \"index\" is reserved for the site's index of queries" }
        return nil
    }

    /// Why `name` (described as `naming` in the message) cannot be one folder's name, or `nil` if it can.
    static func problem(withFolderName name: String, naming: String) -> String? {
        if name.isEmpty { return "\(naming) is empty" }
        if name == "." || name == ".." { return "\(naming) \"\(name)\" is not a folder name" }
        if name.hasPrefix(".") { return "\(naming) \"\(name)\" starts with a dot (hidden folder)" }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }) {
            return "\(naming) \"\(DisplayText.text(name))\" contains a path separator or control character"
        }
        if name.utf8.count > 200 { return "\(naming) is longer than 200 bytes" }
        return nil
    }

    /// Percent-encodes one path segment for use in an `href` (everything but `A–Z a–z 0–9 - . _ ~`).
    static func urlSegment(_ segment: String) -> String {
        var out = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// File name of a feature's page.
    static func featurePage(_ index: Int) -> String { "\(index).html" }

    /// Link from the site root to a feature's page, the dictionary id percent-encoded.
    static func featureHref(dictionaryID: String, index: Int) -> String {
        urlSegment(dictionaryID) + "/" + featureFolder + "/" + featurePage(index)
    }

    /// A site's folder within a section (`neighbourhoods`, `subspaces`), relative to the site root, ending in `/`.
    static func siteFolder(section: String, slug: String) -> String {
        section + "/" + slug + "/"
    }

    /// Link from the site root to a circuit task's folder, ending in `/`.
    static func circuitFolderHref(slug: String) -> String {
        circuits + "/" + urlSegment(slug) + "/"
    }

    /// Link from the site root to a neighbourhood site's folder, ending in `/`.
    static func neighbourhoodFolderHref(slug: String) -> String {
        neighbourhoods + "/" + urlSegment(slug) + "/"
    }

    /// Why `slug` cannot name a subspace site's folder (`subspaces/<slug>/`), or `nil` if it can.
    static func problem(withSubspaceSiteSlug slug: String) -> String? {
        problem(withFolderName: slug, naming: "subspace site slug")
    }

    /// Link from the site root to a subspace site's folder, ending in `/`.
    static func subspaceFolderHref(slug: String) -> String {
        subspaces + "/" + urlSegment(slug) + "/"
    }

    /// File name of a subspace's page (`s3.html`).
    static func subspacePage(_ number: Int) -> String { "s\(number).html" }

    /// File name of a neighbourhood query's page (`q1.html`).
    static func queryPage(_ id: String) -> String { id + ".html" }

    /// Link from the site root to a neighbourhood query's page.
    static func queryHref(slug: String, id: String) -> String {
        neighbourhoodFolderHref(slug: slug) + urlSegment(queryPage(id))
    }

    /// File name of a circuit node's page (`a1.h2.html`, `m0.html`); only for ids `CircuitNodeRef` reads as a node.
    static func nodePage(_ id: String) -> String { id + ".html" }
}
