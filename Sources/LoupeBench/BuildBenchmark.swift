import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeReport

/// The end-to-end benchmark of `make bench` (`--build`): `loupe build` as a user runs it, on an input of
/// the shape users bring, written here: a GPT-2-small-shaped Hugging Face directory (random weights, a
/// 50,257-token word tokenizer), documents of 20–400 tokens (log-uniform lengths, Zipf-distributed
/// words) up to 131,072 tokens, the atlas step's count (993 documents, `context: 128`), a
/// SAELens TopK dictionary 768 → 4096 (k 32) at
/// `blocks.6.hook_resid_pre`, default outputs. The `loupe` executable beside `loupe-bench` builds it with
/// `--timings`; its per-phase wall time and peak resident memory come from the build's own
/// `findings/timings.json`.
struct BuildBenchmark {
    static let (context, hook, k) = (128, "blocks.6.hook_resid_pre", 32)
    /// Corpus tokens (131,072 by default, the atlas step's) and dictionary width (4096).
    var tokens = 131_072
    var features = 4096

    struct Result {
        /// The build's phases (`findings/timings.json`: everything but writing the site).
        var timings: BuildTimings
        /// `loupe build` from start to exit, site included.
        var wallSeconds: Double
        var tokens, documents: Int
        /// Floating-point operations of the sweep (blocks 0–5 over every window, matrix products only).
        var sweepFlops: Double
    }

    /// Writes the input under `directory`: `model/`, `dictionary/`, `corpus.txt`, `report.yaml`; returns
    /// the number of documents.
    func writeInput(to directory: URL) throws -> Int {
        let config = GPT2Config(vocabularySize: 50257, contextLength: 1024, width: 768, heads: 12, layers: 12)
        let modelDirectory = directory.appendingPathComponent("model")
        try GPT2Model(config: config, weights: GPT2Weights.random(config: config, seed: 3)).save(to: modelDirectory)
        let words = ["<|endoftext|>", "<unk>"] + (2..<config.vocabularySize).map { "w\($0)" }
        try WordTokenizer(tokens: words, unknown: "<unk>").write(to: modelDirectory.appendingPathComponent(WordTokenizer.fileName))
        var rng = SeededRandom(seed: 5)
        var tokens = 0
        var lines: [String] = []
        while tokens < self.tokens {
            let drawn = Int(exp(log(20.0) + Double(rng.nextUniform()) * (log(400.0) - log(20.0))))
            let length = min(drawn, self.tokens - tokens)
            tokens += length
            // Zipf's law over the words: rank e^(u·ln V) has density ∝ 1/rank.
            lines.append((0..<length).map { _ in words[min(words.count - 1, 1 + Int(exp(Double(rng.nextUniform()) * log(Double(words.count - 1)))))] }
                .joined(separator: " "))
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("corpus.txt"))
        try BenchDictionary.randomTopK(hook: Self.hook, width: config.width, features: features, k: Self.k, rng: &rng)
            .save(to: directory.appendingPathComponent("dictionary"))
        let spec = """
            title: A GPT-2-small-shaped model, a TopK dictionary at layer 6
            model: model
            corpus: {files: [corpus.txt], context: \(Self.context), prepend_bos: true}
            hooks:
              - hook: \(Self.hook)
                dictionary: {saelens: dictionary}
            seed: 1

            """
        try Data(spec.utf8).write(to: directory.appendingPathComponent("report.yaml"))
        return lines.count
    }

    func run() throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-build-bench-\(UUID().uuidString)/report")
        defer { try? FileManager.default.removeItem(at: scratch.deletingLastPathComponent()) }
        FileHandle.standardError.write("writing the user-shaped input (GPT-2-small shape, \(tokens) tokens of ragged documents, TopK \(features))…\n".data(using: .utf8)!)
        let documents = try writeInput(to: scratch)
        let loupe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("loupe")
        guard FileManager.default.isExecutableFile(atPath: loupe.path) else {
            throw BenchError(reason: "\(loupe.path) is missing: build it with `swift build -c release --product loupe`")
        }
        let process = Process()
        process.executableURL = loupe
        process.arguments = ["build", scratch.appendingPathComponent("report.yaml").path, "--timings"]
        process.standardOutput = FileHandle.standardError
        let wall = try seconds {
            try process.run()
            process.waitUntilExit()
        }
        guard process.terminationStatus == 0 else { throw BenchError(reason: "loupe build exited with status \(process.terminationStatus)") }
        let timings = try JSONDecoder().decode(
            BuildTimings.self, from: try Data(contentsOf: scratch.appendingPathComponent("findings/timings.json")))
        let windows = try TokenizedCorpus(
            corpus: try Corpus.read(file: scratch.appendingPathComponent("corpus.txt")),
            tokenizer: try TokenizerLoader.load(directory: scratch.appendingPathComponent("model"))
        ).windows(contextLength: Self.context, bos: 0)
        let config = GPT2Config(vocabularySize: 50257, contextLength: 1024, width: 768, heads: 12, layers: 6)
        let sweepFlops = windows.reduce(0.0) { $0 + forwardFlops(config, batch: 1, tokens: $1.count) - 2 * Double($1.count * 768 * 50257) }
        return Result(timings: timings, wallSeconds: wall, tokens: tokens, documents: documents, sweepFlops: sweepFlops)
    }
}

/// A benchmark that cannot run, and why.
struct BenchError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
