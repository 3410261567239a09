import Foundation
import LoupeReport
import Testing

/// `ReportSpec.load`: defaults, paths relative to the spec, and an error naming the key for every
/// kind of mistake.
@Suite struct ReportSpecTests {
    static let valid = """
        title: A title
        model: model
        corpus: {files: [corpus.txt], context: 16}
        hooks:
          - hook: blocks.0.hook_resid_post
            neurons: true
          - hook: blocks.1.hook_resid_post
            dictionary: {train: topk, width: 24, k: 3, steps: 20, path: trained}
        """

    /// A report folder with an (empty) model folder and a corpus file, and `spec` as its spec.
    func load(_ spec: String) throws -> ReportSpec {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-spec-\(UUID().uuidString)/demo")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("model"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try Data("one document\n".utf8).write(to: directory.appendingPathComponent("corpus.txt"))
        let url = directory.appendingPathComponent("report.yaml")
        try Data(spec.utf8).write(to: url)
        return try ReportSpec.load(url: url)
    }

    @Test func defaultsAndRelativePaths() throws {
        let spec = try load(Self.valid)
        #expect(spec.name == "demo" && spec.title == "A title")
        #expect(spec.model.lastPathComponent == "model" && spec.model.deletingLastPathComponent() == spec.directory)
        #expect(spec.contextLength == 16 && spec.prependBos)
        #expect(spec.topExamples == 20 && spec.intervals == 10 && spec.intervalExamples == 5)
        #expect(spec.explain && spec.minimumFiringTokens == 20 && spec.seed == 0 && spec.evaluationTokens == 16384)
        #expect(spec.hooks.map(\.hook) == ["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"])
        #expect(spec.hooks[0].source == .neurons)
        #expect(spec.hooks[1].source == .trainTopK(width: 24, k: 3, steps: 20, seed: 0, path: spec.directory.appendingPathComponent("trained")))
        guard case let .files(files) = spec.corpus else { Issue.record("corpus is not files"); return }
        #expect(files == [spec.directory.appendingPathComponent("corpus.txt")])
        #expect(spec.siteDirectory == spec.directory.appendingPathComponent("site"))
    }

    @Test func toyWorldCorpus() throws {
        let spec = try load(Self.valid.replacingOccurrences(of: "files: [corpus.txt]", with: "toy_world: {documents: 30, seed: 4}"))
        #expect(spec.corpus == .toyWorld(documents: 30, seed: 4))
        #expect(spec.title == "A title")
    }

    @Test(arguments: [
        ("title: A title", "title: A title\ncolour: red", "key 'colour': unknown key"),
        ("title: A title", "title: A title\nevaluation: {tokens: 0}", "key 'evaluation.tokens': 0 is outside"),
        ("title: A title", "title: A title\nevaluation: {rows: 5}", "key 'evaluation.rows': unknown key"),
        ("model: model", "model: elsewhere", "key 'model':"),
        ("model: model", "model: 3", "key 'model':"),
        ("corpus: {files: [corpus.txt], context: 16}", "corpus: {files: [], context: 16}", "key 'corpus.files': must be a non-empty list"),
        ("corpus: {files: [corpus.txt], context: 16}", "corpus: {files: [nowhere.txt]}", "nowhere.txt does not exist"),
        ("corpus: {files: [corpus.txt], context: 16}", "corpus: {context: 16}", "key 'corpus.files': missing"),
        ("context: 16", "context: 1", "key 'corpus.context': 1 is outside 2…8192"),
        ("context: 16", "context: 16, prepend_bos: yes please", "key 'corpus.prepend_bos'"),
        ("corpus: {files: [corpus.txt], context: 16}", "corpus: {toy_world: {documents: 0}}", "key 'corpus.toy_world.documents'"),
        ("neurons: true", "neurons: false", "key 'hooks[0].neurons'"),
        ("width: 24, k: 3", "width: 24, k: 30", "key 'hooks[1].dictionary.k'"),
        ("train: topk", "train: relu", "key 'hooks[1].dictionary.train'"),
        ("steps: 20", "steps: twenty", "key 'hooks[1].dictionary.steps'"),
        ("  - hook: blocks.0.hook_resid_post", "  - layer: 0", "key 'hooks[0].layer': unknown key"),
        ("title: A title", "title: A title\natlas: {explain: maybe}", "key 'atlas.explain'"),
        ("title: A title", "title: A title\natlas: {top_examples: 0}", "key 'atlas.top_examples'"),
        ("title: A title", "title: A title\nseed: -1", "key 'seed'"),
        ("title: A title", "title: [unclosed", "not valid YAML"),
        // Found by fuzzing (docs/RELIABILITY.md): keys that are not plain names crashed the YAML library.
        ("title: A title", "title: A title\natlas: {!tagged bogus: 3}", "key 'atlas.bogus': unknown key"),
        ("title: A title", "title: A title\n? [a, b]\n: 1", "a key must be a plain name"),
        ("title: A title", "title: A title\n{x: 1}: 2", "a key must be a plain name"),
    ])
    func everyMistakeNamesItsKey(original: String, replacement: String, expected: String) throws {
        #expect(Self.valid.contains(original))
        do {
            _ = try load(Self.valid.replacingOccurrences(of: original, with: replacement))
            Issue.record("accepted \(replacement)")
        } catch let error as BuildError {
            #expect(error.step == .spec)
            #expect(error.path.hasSuffix("demo/report.yaml"))
            #expect(error.reason.contains(expected), "\(error)")
        }
    }

    @Test func hooksMustBeAList() throws {
        let spec = String(Self.valid[..<Self.valid.range(of: "hooks:")!.lowerBound]) + "hooks: blocks.0.hook_resid_post\n"
        #expect {
            try load(spec)
        } throws: { error in
            (error as? BuildError)?.reason.contains("key 'hooks': must be a non-empty list") == true
        }
    }
}
