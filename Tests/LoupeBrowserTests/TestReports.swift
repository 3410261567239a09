import Foundation

/// The reports the browser tests open, built by the `loupe` command line in a temporary folder: the
/// demo (atlas, circuits, decoded neighbourhoods and subspaces) and a small report over a hostile corpus.
enum TestReports {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The environment variable naming the `loupe` executable to build with (`make browser-test` passes the release build).
    static let binaryVariable = "LOUPE_BINARY"

    /// The hostile corpus's documents, one a line: markup, Mustache markers, a `javascript:` URL, an RTL
    /// override. No page may run or parse them as markup.
    static let hostileLines = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(2)>",
        "</textarea>",
        "{{x}} {{{y}}}",
        "javascript:alert(3)",
        "right\u{202E}left",
        "a cat and a dog",
    ]

    /// The hostile report's title, markup and a Mustache section as text.
    static let hostileTitle = "<script>alert(1)</script> <img src=x onerror=alert(2)> {{x}} {{{y}}} </textarea>"

    /// `LOUPE_BINARY` when set, otherwise the release build in the repository.
    static func loupe(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let path = environment[binaryVariable], !path.isEmpty { return URL(fileURLWithPath: path) }
        return repository.appendingPathComponent(".build/release/loupe")
    }

    /// Copies the demo report (spec, model, dictionary, decoder, reference circuits) into `folder`, builds
    /// it and returns its site folder; nothing in the repository changes.
    static func demo(in folder: URL) throws -> URL {
        let report = folder.appendingPathComponent("demo")
        try FileManager.default.copyItem(at: repository.appendingPathComponent("Reports/demo"), to: report)
        try build(report)
        return report.appendingPathComponent("site")
    }

    /// Writes a report over the hostile corpus (the `gpt2-bare` fixture model, whose byte-level tokenizer
    /// keeps every byte, and a trained dictionary with explanations) into `folder`, builds it and returns its site folder.
    static func hostile(in folder: URL) throws -> URL {
        let report = folder.appendingPathComponent("hostile")
        try FileManager.default.createDirectory(at: report, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repository.appendingPathComponent("Tests/Fixtures/gpt2-bare"), to: report.appendingPathComponent("model"))
        var corpus = Data()
        for index in 0..<(6 * hostileLines.count) {
            corpus.append(Data((hostileLines[index % hostileLines.count] + "\n").utf8))
        }
        corpus.append(contentsOf: [0x62, 0x61, 0x64, 0xFF, 0xFE, 0xC3, 0x28, 0x20, 0x62, 0x79, 0x74, 0x65, 0x73, 0x0A])
        try corpus.write(to: report.appendingPathComponent("corpus.txt"))
        let spec = """
            title: "\(hostileTitle)"
            model: model
            corpus: {files: [corpus.txt], context: 32, prepend_bos: true}
            hooks:
              - hook: blocks.1.hook_resid_post
                dictionary: {train: topk, width: 24, k: 3, steps: 20, seed: 2, path: dictionary}
            atlas: {top_examples: 20, intervals: 3, interval_examples: 2, min_firing_tokens: 3, explain: true}
            subspaces:
              sites:
                - {hook: blocks.1.hook_resid_post, path: subspaces/resid1, block_size: 8, steps: 20, merge_every: 10, samples: 300, batch_size: 32, buffer_size: 128}
              tasks: []
              queries: 2
              neighbours: 5
              similarity: 0.5
            seed: 3
            """
        try Data(spec.utf8).write(to: report.appendingPathComponent("report.yaml"))
        try build(report)
        return report.appendingPathComponent("site")
    }

    /// Runs `loupe build <report>/report.yaml --force --quiet`; throws with its error output when it fails.
    static func build(_ report: URL) throws {
        let process = Process()
        process.executableURL = loupe()
        process.arguments = ["build", report.appendingPathComponent("report.yaml").path, "--force", "--quiet"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BuildFailure(report: report.lastPathComponent, status: process.terminationStatus, stderr: String(decoding: stderr, as: UTF8.self))
        }
    }

    /// A `loupe build` that exited with an error.
    struct BuildFailure: Error, CustomStringConvertible {
        let report: String
        let status: Int32
        let stderr: String

        var description: String { "loupe build \(report) exited with \(status): \(stderr)" }
    }
}
