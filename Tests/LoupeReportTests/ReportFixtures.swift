import Foundation

/// Report folders for the tests: the committed demo model and dictionary with a spec of the test's
/// choosing, in a fresh temporary folder named `report`.
enum ReportFixtures {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let demo = repository.appendingPathComponent("Reports/demo")

    /// The demo's spec with a toy-world corpus of `documents` documents (the demo itself reads 4000),
    /// and `circuits` (YAML lines) in place of the demo's `circuits:` section (none when `nil`).
    static func demoSpec(documents: Int, circuits: String? = nil) throws -> String {
        let spec = try String(contentsOf: demo.appendingPathComponent("report.yaml"), encoding: .utf8)
        let original = "toy_world: {documents: 4000, seed: 7}"
        precondition(spec.contains(original), "Reports/demo/report.yaml no longer reads 4000 toy-world documents")
        var lines = spec.replacingOccurrences(of: original, with: "toy_world: {documents: \(documents), seed: 7}")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The demo's circuits section: from `circuits:` to the next top-level key.
        let start = lines.firstIndex(of: "circuits:")
        precondition(start != nil, "Reports/demo/report.yaml no longer has a circuits section")
        let end = lines[(start! + 1)...].firstIndex { !$0.isEmpty && !$0.hasPrefix(" ") && !$0.hasPrefix("#") } ?? lines.count
        lines.replaceSubrange(start!..<end, with: circuits.map { [$0] } ?? [])
        return lines.joined(separator: "\n")
    }

    /// A new report folder holding copies of the demo's model and dictionary and `spec` as `report.yaml`.
    static func report(spec: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("loupe-report-\(UUID().uuidString)/report")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["model", "dictionary"] {
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
