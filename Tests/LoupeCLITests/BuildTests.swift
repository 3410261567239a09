import Foundation
import LoupeCore
import Testing
@testable import LoupeCLI

/// `loupe build` end to end on the small reference model: outputs, caching, determinism,
/// hostile corpus text, and bad specs that must leave the previous site in place.
@Suite(.serialized) struct BuildTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let hostileLines = [
        "<script>alert(1)</script> hello world",
        "\"><img src=x onerror=alert(2)> the end",
        "</textarea> and {{mustache}} and {{{triple}}}",
        "right\u{202E}to\u{202D}left \u{2067}isolate",
        "plain words about a cat and a dog",
    ]

    /// A report folder with the gpt2-bare model, a corpus with hostile text and invalid UTF-8, and a spec.
    func report(spec: String? = nil) throws -> URL {
        // The folder's name is the report's name, so every report here is called "report".
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-build-\(UUID().uuidString)/report")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("gpt2-bare"), to: directory.appendingPathComponent("model"))
        var corpus = Data()
        for index in 0..<24 {
            corpus.append(Data((Self.hostileLines[index % Self.hostileLines.count] + " \(index)\n").utf8))
        }
        corpus.append(contentsOf: [0x62, 0x61, 0x64, 0xFF, 0xFE, 0x20, 0x62, 0x79, 0x74, 0x65, 0x73, 0x0A])
        try corpus.write(to: directory.appendingPathComponent("corpus.txt"))
        let text = spec ?? """
            title: Test <report> & "quotes"
            model: model
            corpus: {files: [corpus.txt], context: 16, prepend_bos: true}
            hooks:
              - hook: blocks.1.hook_resid_post
                dictionary: {train: topk, width: 24, k: 3, steps: 20, seed: 2, path: dictionary}
              - hook: blocks.0.mlp.hook_post
                neurons: true
            atlas: {top_examples: 5, intervals: 3, interval_examples: 2, min_firing_tokens: 3}
            seed: 3
            """
        try Data(text.utf8).write(to: directory.appendingPathComponent("report.yaml"))
        return directory
    }

    func build(_ directory: URL, force: Bool = false) throws {
        var command = try LoupeCommand.parseAsRoot(["build", directory.appendingPathComponent("report.yaml").path, "--quiet"] + (force ? ["--force"] : []))
        try command.run()
    }

    func siteFiles(_ directory: URL) throws -> [String: Data] {
        let site = directory.appendingPathComponent("site")
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: site, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            if (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
                files[String(url.path.dropFirst(site.path.count))] = try Data(contentsOf: url)
            }
        }
        return files
    }

    @Test func buildsAPageForEveryFeatureAndReusesFindings() throws {
        let directory = try report()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try build(directory)
        let files = try siteFiles(directory)
        #expect(files["/index.html"] != nil && files["/summary.md"] != nil)
        #expect(files.keys.filter { $0.hasPrefix("/blocks.1.hook_resid_post-topk/features/") }.count == 24)
        #expect(files.keys.filter { $0.hasPrefix("/blocks.0.mlp.hook_post-neurons/features/") }.count == 128)
        for name in ["cfg.json", "sae_weights.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("dictionary/\(name)").path))
        }
        let findings = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("findings").path)
        #expect(findings.contains { $0.hasPrefix("findings-") && $0.hasSuffix(".json") })
        #expect(!findings.contains("activations"))

        // Unchanged inputs: the site comes from the cached findings, the model is not run. Marking the
        // cached report name shows which: a recomputation would write "report" again.
        let cached = directory.appendingPathComponent("findings").appendingPathComponent(try #require(findings.first { $0.hasPrefix("findings-") }))
        let json = try String(contentsOf: cached, encoding: .utf8)
        try Data(json.replacingOccurrences(of: "\"name\":\"report\"", with: "\"name\":\"cached-report\"").utf8).write(to: cached)
        try build(directory)
        let rebuilt = try siteFiles(directory)
        #expect(rebuilt.keys == files.keys)
        #expect(String(decoding: try #require(rebuilt["/index.html"]), as: UTF8.self).contains("cached-report"))
        try build(directory, force: true)
        #expect(try siteFiles(directory) == files)
    }

    @Test func twoBuildsOfTheSameSpecAreByteIdentical() throws {
        let first = try report(), second = try report()
        defer {
            try? FileManager.default.removeItem(at: first.deletingLastPathComponent())
            try? FileManager.default.removeItem(at: second.deletingLastPathComponent())
        }
        try build(first)
        try build(second)
        #expect(try siteFiles(first) == siteFiles(second))
        try build(first, force: true)
        #expect(try siteFiles(first) == siteFiles(second))
    }

    @Test func hostileCorpusTextIsInertInEveryPage() throws {
        let directory = try report()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try build(directory)
        for (path, data) in try siteFiles(directory) where path.hasSuffix(".html") || path.hasSuffix(".js") {
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.contains("<script>alert"), "\(path)")
            #expect(!text.contains("<img"), "\(path)")
            #expect(!text.contains("onerror="), "\(path)")
            #expect(!text.contains("</textarea>"), "\(path)")
            #expect(!text.contains("\u{202E}") && !text.contains("\u{2067}"), "\(path)")
            #expect(!text.contains("http://") && !text.contains("https://"), "\(path)")
            if path.hasSuffix(".html") {
                #expect(text.contains("Content-Security-Policy"), "\(path)")
                #expect(!text.contains("<script>"), "\(path): inline script")
            }
        }
    }

    @Test(arguments: [
        ("model: model", "model: missing-model", "missing-model"),
        ("hook: blocks.1.hook_resid_post", "hook: blocks.7.hook_resid_post", "blocks.7.hook_resid_post"),
        ("corpus: {files: [corpus.txt]", "corpus: {files: [nowhere.txt]", "nowhere.txt"),
        ("corpus: {files: [corpus.txt]", "corpus: {files: [empty.txt]", "empty.txt"),
        ("dictionary: {train: topk, width: 24, k: 3, steps: 20, seed: 2, path: dictionary}", "dictionary: {saelens: wide}", "d_in"),
        ("seed: 3", "seed: three", "seed"),
    ])
    func badSpecsFailClearlyAndKeepThePreviousSite(original: String, replacement: String, expected: String) throws {
        let directory = try report()
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try build(directory)
        let before = try siteFiles(directory)
        try Data().write(to: directory.appendingPathComponent("empty.txt"))
        // A SAELens dictionary 16 wide, for a 32-wide hook.
        let saeFixtures = Self.fixtures.appendingPathComponent("sae")
        if let narrow = try FileManager.default.contentsOfDirectory(atPath: saeFixtures.path).sorted().first(where: { name in
            (try? Data(contentsOf: saeFixtures.appendingPathComponent("\(name)/cfg.json")))
                .map { String(decoding: $0, as: UTF8.self).contains("\"d_in\": 16") || String(decoding: $0, as: UTF8.self).contains("\"d_in\":16") } ?? false
        }) {
            try FileManager.default.copyItem(at: saeFixtures.appendingPathComponent(narrow), to: directory.appendingPathComponent("wide"))
        }
        let specURL = directory.appendingPathComponent("report.yaml")
        let spec = try String(contentsOf: specURL, encoding: .utf8)
        try Data(spec.replacingOccurrences(of: original, with: replacement).utf8).write(to: specURL)
        do {
            try build(directory, force: true)
            Issue.record("accepted \(replacement)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
        #expect(try siteFiles(directory) == before)
    }
}
