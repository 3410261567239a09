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
/// ```
enum SitePaths {
    static let assets = "assets"
    static let index = "index.html"
    static let summary = "summary.md"
    static let featureData = "features.js"
    static let featureFolder = "features"
    /// A marker file: a folder holding it was written by Loupe and may be replaced by a new site.
    static let marker = ".loupe-site"

    /// Names at the site's top level that a dictionary id must not take.
    static let reserved: Set<String> = [assets, index, summary, marker]

    /// Why `id` cannot name a folder of the site, or `nil` if it can.
    static func problem(withDictionaryID id: String) -> String? {
        if id.isEmpty { return "dictionary id is empty" }
        if id == "." || id == ".." { return "dictionary id \"\(id)\" is not a folder name" }
        if id.hasPrefix(".") { return "dictionary id \"\(id)\" starts with a dot (hidden folder)" }
        if id.unicodeScalars.contains(where: { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }) {
            return "dictionary id \"\(DisplayText.text(id))\" contains a path separator or control character"
        }
        if id.utf8.count > 200 { return "dictionary id is longer than 200 bytes" }
        if reserved.contains(id) { return "dictionary id \"\(id)\" is reserved for the site's own files" }
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
}
