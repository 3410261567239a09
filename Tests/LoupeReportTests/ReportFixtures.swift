import Foundation

/// Report folders for the tests: the committed demo model and dictionary with a spec of the test's
/// choosing, in a fresh temporary folder named `report`.
enum ReportFixtures {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let demo = repository.appendingPathComponent("Reports/demo")

    /// The demo's spec with a toy-world corpus of `documents` documents (the demo itself reads 4000),
    /// `circuits`, `neighbourhoods` and `subspaces` (YAML lines) in place of the demo's sections of those names
    /// (none when `nil`).
    static func demoSpec(documents: Int, circuits: String? = nil, neighbourhoods: String? = nil, subspaces: String? = nil) throws -> String {
        let spec = try String(contentsOf: demo.appendingPathComponent("report.yaml"), encoding: .utf8)
        let original = "toy_world: {documents: 4000, seed: 7}"
        precondition(spec.contains(original), "Reports/demo/report.yaml no longer reads 4000 toy-world documents")
        var lines = spec.replacingOccurrences(of: original, with: "toy_world: {documents: \(documents), seed: 7}")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        replaceSection("circuits", with: circuits, in: &lines)
        replaceSection("neighbourhoods", with: neighbourhoods, in: &lines)
        replaceSection("subspaces", with: subspaces, in: &lines)
        return lines.joined(separator: "\n")
    }

    /// Replaces the section `name` (from `name:` to the next top-level key) with `replacement`.
    private static func replaceSection(_ name: String, with replacement: String?, in lines: inout [String]) {
        let start = lines.firstIndex(of: name + ":")
        precondition(start != nil, "Reports/demo/report.yaml no longer has a \(name) section")
        let end = lines[(start! + 1)...].firstIndex { !$0.isEmpty && !$0.hasPrefix(" ") && !$0.hasPrefix("#") } ?? lines.count
        lines.replaceSubrange(start!..<end, with: replacement.map { [$0] } ?? [])
    }

    /// A new report folder holding copies of the demo's model, dictionary and decoder and `spec` as `report.yaml`.
    static func report(spec: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("loupe-report-\(UUID().uuidString)/report")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["model", "dictionary", "decoder"] {
            try FileManager.default.copyItem(at: demo.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        try Data(spec.utf8).write(to: directory.appendingPathComponent("report.yaml"))
        return directory
    }

    /// Every regular file under `folder`, by path relative to it.
    static func files(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            if try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
                files[String(url.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count))] = try Data(contentsOf: url)
            }
        }
        return files
    }

    static func remove(_ report: URL) {
        try? FileManager.default.removeItem(at: report.deletingLastPathComponent())
    }
}
