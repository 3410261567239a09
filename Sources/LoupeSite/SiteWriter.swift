import Foundation
import LoupeFindings

/// Writes a report's findings as a static website that works from `file://` with no network.
///
/// The site is built as a pipeline of named steps (`SiteStep`) into a fresh temporary folder next to
/// the destination, which is then swapped into place in one step (`renameat2` with `RENAME_EXCHANGE`,
/// so a process killed at any moment leaves one whole site at the destination; on file systems without
/// it, the old site is renamed away and the new one renamed in), and the old one deleted. If any step fails, a site already at the destination is left untouched
/// and the temporary folder is removed. Writing the same findings twice gives byte-identical files.
///
/// An existing destination is replaced only if it is empty or was written by Loupe (it holds the marker
/// file `.loupe-site`), so pointing the writer at the wrong folder cannot delete it.
public struct SiteWriter {
    /// Where templates and assets are read from.
    public var resources: SiteResources

    /// Called after each step with the step and the temporary folder; tests use it to fail mid-write.
    var afterStep: ((SiteStep, URL) throws -> Void)?

    /// A writer reading templates and assets from `resources` (by default `SiteResources.standard()`).
    public init(resources: SiteResources = .standard()) {
        self.resources = resources
    }

    /// Writes the site for `findings` to `siteDirectory`; `summaryMarkdown` is the report summary, copied
    /// to `summary.md` and rendered into `index.html`, whose heading is `title` (the report's name when nil).
    public static func write(
        findings: ReportFindings, summaryMarkdown: String, title: String? = nil, to siteDirectory: URL,
        resources: SiteResources = .standard()
    ) throws {
        try SiteWriter(resources: resources).write(findings: findings, summaryMarkdown: summaryMarkdown, title: title, to: siteDirectory)
    }

    /// Writes the site for `findings` to `siteDirectory` (see the type's documentation).
    public func write(findings: ReportFindings, summaryMarkdown: String, title: String? = nil, to siteDirectory: URL) throws {
        let destination = siteDirectory.standardizedFileURL

        try resources.validate()
        let templates = try TemplateSet(folder: resources.templates)
        try Self.checkFindings(findings)
        try Self.checkDestination(destination)

        let staging = try Self.makeStaging(next: destination)
        do {
            let build = SiteBuild(findings: findings, summaryMarkdown: summaryMarkdown, title: title ?? findings.name,
                                  templates: templates, assets: resources.assets, root: staging)
            let steps: [(SiteStep, () throws -> Void)] = [
                (.copyAssets, build.copyAssets),
                (.renderSummary, build.renderSummary),
                (.renderIndex, build.renderIndex),
            ] + pageFamilies.flatMap { $0.steps(build) }
            for (step, run) in steps {
                do {
                    try run()
                } catch let error as SiteError {
                    throw error
                } catch {
                    throw SiteError.fileSystem(step: step, path: staging.path, reason: "\(error)")
                }
                try afterStep?(step, staging)
            }
            try Self.swap(staging, into: destination)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    // MARK: - Checks before anything is written

    /// Ids, slugs and indices that name files and folders must be usable and unique: dictionary ids,
    /// feature indices, circuit task slugs, neighbourhood site slugs and each site's query ids, subspace site slugs.
    static func checkFindings(_ findings: ReportFindings) throws {
        try checkNames(findings.dictionaries.map(\.id), problem: SitePaths.problem(withDictionaryID:), repeated: "two dictionaries have this id")
        for dictionary in findings.dictionaries {
            var indices = Set<Int>()
            for feature in dictionary.features where !indices.insert(feature.index).inserted {
                throw SiteError.invalidFindings(
                    step: .checkFindings, path: DisplayText.text(dictionary.id),
                    reason: "feature index \(feature.index) appears twice"
                )
            }
        }
        try checkNames((findings.circuits?.tasks ?? []).map(\.slug), problem: SitePaths.problem(withTaskSlug:), repeated: "two circuit tasks have this slug")
        let sites = findings.neighbourhoods?.sites ?? []
        try checkNames(sites.map(\.slug), problem: SitePaths.problem(withSiteSlug:), repeated: "two neighbourhood sites have this slug")
        for site in sites {
            try checkNames(site.queries.map(\.id), problem: SitePaths.problem(withQueryID:),
                           repeated: "two queries of neighbourhood site \"\(DisplayText.text(site.slug))\" have this id")
        }
        try checkNames((findings.subspaces?.sites ?? []).map(\.slug), problem: SitePaths.problem(withSubspaceSiteSlug:),
                       repeated: "two subspace sites have this slug")
    }

    /// Throws for the first of `names` that `problem` rejects or that repeats an earlier one.
    static func checkNames(_ names: [String], problem: (String) -> String?, repeated: String) throws {
        var seen = Set<String>()
        for name in names {
            if let problem = problem(name) {
                throw SiteError.invalidFindings(step: .checkFindings, path: DisplayText.text(name), reason: problem)
            }
            guard seen.insert(name).inserted else {
                throw SiteError.invalidFindings(step: .checkFindings, path: DisplayText.text(name), reason: repeated)
            }
        }
    }

    /// The destination must be absent, an empty folder, or a folder holding the Loupe marker.
    static func checkDestination(_ destination: URL) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: destination.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw SiteError.destinationNotASite(step: .prepareStaging, path: destination.path, reason: "exists and is not a folder")
        }
        let contents = (try? manager.contentsOfDirectory(atPath: destination.path)) ?? []
        if contents.isEmpty || contents.contains(SitePaths.marker) { return }
        throw SiteError.destinationNotASite(
            step: .prepareStaging, path: destination.path,
            reason: "folder is not empty and was not written by Loupe (no \(SitePaths.marker)); not replacing it"
        )
    }

    static func makeStaging(next destination: URL) throws -> URL {
        let parent = destination.deletingLastPathComponent()
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw SiteError.fileSystem(step: .prepareStaging, path: parent.path, reason: "cannot create the destination's parent folder: \(error.localizedDescription)")
        }
        // What a killed writer left beside the destination: its unfinished folder, and the previous site
        // if it was killed between the two renames of a swap without `renameat2` (put back when the
        // destination is missing).
        for name in (try? manager.contentsOfDirectory(atPath: parent.path)) ?? [] {
            let leftover = parent.appendingPathComponent(name)
            if name.hasPrefix(".\(destination.lastPathComponent).old-") && !manager.fileExists(atPath: destination.path) {
                try? manager.moveItem(at: leftover, to: destination)
            } else if name.hasPrefix(".\(destination.lastPathComponent).staging-") || name.hasPrefix(".\(destination.lastPathComponent).old-") {
                try? manager.removeItem(at: leftover)
            }
        }
        let staging = parent.appendingPathComponent(".\(destination.lastPathComponent).staging-\(UUID().uuidString)", isDirectory: true)
        do {
            try manager.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw SiteError.fileSystem(step: .prepareStaging, path: staging.path, reason: "cannot create the temporary folder: \(error.localizedDescription)")
        }
        return staging
    }

    /// Renames `staging` to `destination`, replacing an existing site only once the new one is complete.
    static func swap(_ staging: URL, into destination: URL) throws {
        let manager = FileManager.default
        guard manager.fileExists(atPath: destination.path) else {
            try rename(staging, to: destination)
            return
        }
        if let exchange = exchangePaths, exchange(AT_FDCWD, staging.path, AT_FDCWD, destination.path, renameExchange) == 0 {
            try? manager.removeItem(at: staging)  // now the previous site
            return
        }
        let old = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).old-\(UUID().uuidString)", isDirectory: true)
        try rename(destination, to: old)
        do {
            try rename(staging, to: destination)
        } catch {
            try? rename(old, to: destination)  // put the previous site back
            throw error
        }
        try? manager.removeItem(at: old)
    }

    /// Linux's `renameat2`, which the C library declares only to GNU sources, looked up at run time.
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let exchangePaths: RenameAt2? = dlsym(dlopen(nil, RTLD_NOW), "renameat2").map { unsafeBitCast($0, to: RenameAt2.self) }
    /// `RENAME_EXCHANGE`: both paths exist and trade places atomically.
    private static let renameExchange: UInt32 = 2

    static func rename(_ source: URL, to target: URL) throws {
        do {
            try FileManager.default.moveItem(at: source, to: target)
        } catch {
            throw SiteError.fileSystem(
                step: .swapIntoPlace, path: target.path,
                reason: "cannot rename \(source.path) to it: \((error as NSError).localizedDescription)")
        }
    }
}

/// One write in progress: the findings and the temporary folder the steps fill.
final class SiteBuild: @unchecked Sendable {
    let findings: ReportFindings
    let summaryMarkdown: String
    /// The report's title: the index's heading.
    let title: String
    let templates: TemplateSet
    let assets, root: URL
    private var summaryHTML = ""

    init(findings: ReportFindings, summaryMarkdown: String, title: String, templates: TemplateSet, assets: URL, root: URL) {
        self.findings = findings
        self.summaryMarkdown = summaryMarkdown
        self.title = title
        self.templates = templates
        self.assets = assets
        self.root = root
    }

    func write(_ data: Data, to relativePath: String, step: SiteStep) throws {
        let url = root.appendingPathComponent(relativePath)
        do {
            try data.write(to: url)
        } catch {
            throw SiteError.fileSystem(step: step, path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    func makeFolder(_ relativePath: String, step: SiteStep) throws {
        let url = root.appendingPathComponent(relativePath, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw SiteError.fileSystem(step: step, path: url.path, reason: "cannot create folder: \(error.localizedDescription)")
        }
    }

    func copyAssets() throws {
        let manager = FileManager.default
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: assets.path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw SiteError.missingResource(step: .copyAssets, path: assets.path, reason: "cannot list assets: \(error.localizedDescription)")
        }
        for required in ["loupe.css", "table.js"] where !names.contains(required) {
            throw SiteError.missingResource(step: .copyAssets, path: assets.appendingPathComponent(required).path, reason: "asset missing")
        }
        try makeFolder(SitePaths.assets, step: .copyAssets)
        for name in names {
            let source = assets.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: source.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            guard let data = manager.contents(atPath: source.path) else {
                throw SiteError.missingResource(step: .copyAssets, path: source.path, reason: "cannot read asset")
            }
            try write(data, to: SitePaths.assets + "/" + name, step: .copyAssets)
        }
        try write(Data("Written by Loupe. This folder is replaced as a whole when the site is written again.\n".utf8),
                  to: SitePaths.marker, step: .copyAssets)
    }

    func renderSummary() throws {
        try write(Data(summaryMarkdown.utf8), to: SitePaths.summary, step: .renderSummary)
        // The index shows the report's title as its own heading, so the summary's title is left out there.
        guard let html = Markdown.html(summaryMarkdown, droppingTitle: true) else {
            throw SiteError.markdown(step: .renderSummary, path: root.appendingPathComponent(SitePaths.summary).path, reason: "cmark could not render the summary")
        }
        summaryHTML = html
    }

    func renderIndex() throws {
        try render("index", IndexPageView(findings: findings, title: title, summaryHTML: summaryHTML), to: SitePaths.index, step: .renderIndex)
    }

    /// Renders page template `template` with `view` and writes it to `relativePath`.
    func render(_ template: String, _ view: some PageView, to relativePath: String, step: SiteStep) throws {
        let html = try templates.render(template, view, step: step, path: relativePath)
        try write(Data(html.utf8), to: relativePath, step: step)
    }
}
