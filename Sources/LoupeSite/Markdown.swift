import CCmark
import Foundation

/// Renders Markdown to HTML with cmark, and escapes data for the Markdown the site writes. Every
/// `cmark_*` call of the site lives in this file, and everything cmark allocates here is freed here.
///
/// Rendering is safe: raw HTML in the source is replaced by a comment and `javascript:`-style links are
/// dropped (`CMARK_OPT_SAFE`); images that would load from another host are replaced by their alt text,
/// so a page never makes a request.
enum Markdown {
    /// HTML for `markdown`, or `nil` if cmark could not parse or render it. With `droppingTitle`, a
    /// level-1 heading that opens the document is left out (a page that embeds the text shows its own).
    static func html(_ markdown: String, droppingTitle: Bool = false) -> String? {
        let options = CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8
        let bytes = Array(markdown.utf8)
        let parsed: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                // An empty array has no base address; cmark accepts any pointer with length 0.
                let base = chars.baseAddress ?? UnsafePointer<CChar>(bitPattern: 1)
                return base.flatMap { cmark_parse_document($0, chars.count, options) }
            }
        }
        guard let document = parsed else { return nil }
        defer { cmark_node_free(document) }

        inlineRemoteImages(in: document)
        if droppingTitle, let first = cmark_node_first_child(document),
           cmark_node_get_type(first) == CMARK_NODE_HEADING, cmark_node_get_heading_level(first) == 1 {
            cmark_node_unlink(first)
            cmark_node_free(first)
        }

        guard let rendered = cmark_render_html(document, options) else { return nil }
        defer { free(rendered) }
        return String(cString: rendered)
    }

    /// Replaces every image whose URL is not relative (has a scheme other than `data:`, or starts with
    /// `//`) by its alt text.
    private static func inlineRemoteImages(in document: OpaquePointer) {
        var remote: [OpaquePointer] = []
        guard let iterator = cmark_iter_new(document) else { return }
        while true {
            let event = cmark_iter_next(iterator)
            if event == CMARK_EVENT_DONE { break }
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator) else { continue }
            if cmark_node_get_type(node) == CMARK_NODE_IMAGE {
                let url = cmark_node_get_url(node).map { String(cString: $0) } ?? ""
                if isRemote(url) { remote.append(node) }
            }
        }
        cmark_iter_free(iterator)

        for image in remote {
            while let child = cmark_node_first_child(image) {
                // Inserting a node unlinks it from its old parent first.
                if cmark_node_insert_before(image, child) == 0 { break }
            }
            cmark_node_free(image)  // unlinks and frees the (now childless) image node
        }
    }

    /// Text from data made literal in Markdown: syntax characters are backslash-escaped and line
    /// breaks become spaces, so a token cannot become a link, emphasis, a table cell or HTML.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in DisplayText.text(text) {
            if "\\`*_{}[]()#+-.!<>|~&\"".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// Whether a URL points outside the site.
    static func isRemote(_ url: String) -> Bool {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("//") || trimmed.hasPrefix("\\\\") { return true }
        guard let colon = trimmed.firstIndex(of: ":") else { return false }
        let scheme = trimmed[..<colon]
        if scheme.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { return false }
        return scheme.lowercased() != "data"
    }
}
