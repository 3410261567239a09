import Foundation

/// Reads a written site the way a browser would look at it: tags, attributes, links.
enum SiteOutputScanner {
    struct Tag {
        let name: String
        let attributes: [(name: String, value: String)]
        let range: Range<String.Index>
    }

    /// Every start tag in `html`. Data is escaped, so a raw `<` always starts real markup.
    static func tags(in html: String) throws -> [Tag] {
        var tags: [Tag] = []
        let tagPattern = try NSRegularExpression(pattern: "<([a-zA-Z][a-zA-Z0-9-]*)((?:\\s+[^\\s=>/]+(?:\\s*=\\s*(?:\"[^\"]*\"|'[^']*'|[^\\s>\"']+))?)*)\\s*/?>")
        let attributePattern = try NSRegularExpression(pattern: "([^\\s=>/]+)(?:\\s*=\\s*(\"[^\"]*\"|'[^']*'|[^\\s>\"']+))?")
        let ns = html as NSString
        for match in tagPattern.matches(in: html, range: NSRange(location: 0, length: ns.length)) {
            let name = ns.substring(with: match.range(at: 1)).lowercased()
            let attributeText = ns.substring(with: match.range(at: 2))
            let attrNS = attributeText as NSString
            var attributes: [(String, String)] = []
            for a in attributePattern.matches(in: attributeText, range: NSRange(location: 0, length: attrNS.length)) {
                let attrName = attrNS.substring(with: a.range(at: 1)).lowercased()
                var value = a.range(at: 2).location == NSNotFound ? "" : attrNS.substring(with: a.range(at: 2))
                if value.hasPrefix("\"") || value.hasPrefix("'") { value = String(value.dropFirst().dropLast()) }
                attributes.append((attrName, unescape(value)))
            }
            guard let range = Range(match.range, in: html) else { continue }
            tags.append(Tag(name: name, attributes: attributes, range: range))
        }
        return tags
    }

    static func unescape(_ value: String) -> String {
        value.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// `href` and `src` values of a page.
    static func links(in html: String) throws -> [String] {
        try tags(in: html).flatMap { tag in tag.attributes.filter { $0.name == "href" || $0.name == "src" }.map(\.value) }
    }

    /// The file a relative link from `page` (a path relative to the site root) points at, or nil when
    /// the link is not a plain relative path.
    static func target(of link: String, from page: String) -> String? {
        var path = link
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        if path.isEmpty { return page }
        if path.hasPrefix("/") || path.contains(":") { return nil }
        guard let decoded = path.removingPercentEncoding else { return nil }
        var parts = page.split(separator: "/").dropLast().map(String.init)
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            switch segment {
            case ".": continue
            case "..": guard !parts.isEmpty else { return nil }; parts.removeLast()
            default: parts.append(segment)
            }
        }
        return parts.joined(separator: "/")
    }
}
