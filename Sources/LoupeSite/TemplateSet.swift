import Foundation
import Mustache

/// The site's Mustache templates, parsed once per write.
///
/// Each `Templates/<name>.mustache` is registered as `<name>`. Loading fails (rather than rendering an
/// empty string later, which is what Mustache does with an unknown partial) when a page template is
/// missing or a template refers to a partial that does not exist.
struct TemplateSet {
    /// Page templates the writer renders: the index and every page family's.
    static let pages = ["index"] + pageFamilies.flatMap { $0.pageTemplates }

    let library: MustacheLibrary
    let folder: URL

    init(folder: URL) throws {
        self.folder = folder
        let manager = FileManager.default
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".mustache") }.sorted()
        } catch {
            throw SiteError.missingResource(step: .loadTemplates, path: folder.path, reason: "cannot list templates: \(error.localizedDescription)")
        }
        var library = MustacheLibrary()
        var sources: [String: String] = [:]
        for file in names {
            let url = folder.appendingPathComponent(file)
            guard let data = manager.contents(atPath: url.path) else {
                throw SiteError.missingResource(step: .loadTemplates, path: url.path, reason: "cannot read template")
            }
            let text = String(decoding: data, as: UTF8.self)
            let name = String(file.dropLast(".mustache".count))
            do {
                library.register(try MustacheTemplate(string: text), named: name)
            } catch let error as MustacheTemplate.ParserError {
                throw SiteError.template(
                    step: .loadTemplates, path: url.path,
                    reason: "line \(error.context.lineNumber), column \(error.context.columnNumber): \(error.error)"
                )
            } catch {
                throw SiteError.template(step: .loadTemplates, path: url.path, reason: "\(error)")
            }
            sources[name] = text
        }
        for page in Self.pages where sources[page] == nil {
            throw SiteError.missingResource(
                step: .loadTemplates, path: folder.appendingPathComponent(page + ".mustache").path,
                reason: "page template missing"
            )
        }
        for (name, text) in sources.sorted(by: { $0.key < $1.key }) {
            for partial in Self.partialReferences(in: text) where sources[partial] == nil {
                throw SiteError.template(
                    step: .loadTemplates, path: folder.appendingPathComponent(name + ".mustache").path,
                    reason: "refers to partial \"\(partial)\", which has no template"
                )
            }
        }
        self.library = library
    }

    /// Names used as `{{> name}}` in a template.
    static func partialReferences(in text: String) -> [String] {
        var names: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{>") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            let name = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { names.append(name) }
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// Renders page template `name` with `view`.
    func render(_ name: String, _ view: some PageView, step: SiteStep, path: String) throws -> String {
        let tree: MustacheObject
        do {
            tree = try MustacheTree.tree(view)
        } catch {
            throw SiteError.template(step: step, path: path, reason: "cannot prepare the page's values: \(error)")
        }
        guard let html = library.render(tree, withTemplate: name) else {
            throw SiteError.template(step: step, path: folder.appendingPathComponent(name + ".mustache").path, reason: "template not loaded")
        }
        return html
    }
}
