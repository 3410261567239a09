import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeModel

/// `loupe preimage`: the corpus positions whose activations at a hook lie nearest a query's, with
/// how many lie within ε (the retrieved ε-preimage of InversionView).
struct PreimageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preimage",
        abstract: "Find the corpus positions whose activation at a hook is nearest a query's; write JSON.",
        discussion: """
            The corpus (.txt: one document per line; .jsonl: {"text": ...}) is cut into windows of --context tokens \
            (with --prepend-bos: the BOS token and up to context − 1 document tokens); every position whose token is \
            not the BOS (<|endoftext|>) is a candidate. Its activations are stored once under --store (default .loupe-store/ beside the corpus) and \
            reused while model, corpus, context, BOS and hook stay the same. The query file is tokenised whole, like \
            `loupe tokenize`. Distances: l2 = ‖q − z‖ / ‖q‖, cosine = 1 − cos(q, z). Writes {"hook", "head", \
            "distance", "epsilon", "query": {"tokens", "position"}, "candidates", "inside", "neighbours": \
            [{"document", "position", "distance", "text"}]}; documents are 0-based lines of the corpus file.
            """)

    @Option(help: "A Hugging Face GPT-2 model directory (config.json, model.safetensors, tokenizer).")
    var model: String

    @Option(help: "The corpus file (.txt or .jsonl).")
    var corpus: String

    @Option(help: "A TransformerLens hook with one row per token, e.g. blocks.1.hook_resid_post or blocks.0.attn.hook_z.")
    var hook: String

    @Option(help: "Compare only this head's slice of a per-head hook (attn.hook_q, hook_k, hook_v, hook_z, hook_result).")
    var head: Int?

    @Option(help: "The UTF-8 text file holding the query, tokenised whole.")
    var queryFile: String

    @Option(parsing: .unconditional, help: "The query position: a token index, 0-based, negative counting from the end.")
    var position: Int

    @Option(help: "Tokens per window, BOS included (default: the model's n_positions).")
    var context: Int?

    @Flag(help: "Put the beginning-of-sequence token (<|endoftext|>) before the query and every corpus window.")
    var prependBos = false

    @Option(help: "Neighbours to list.")
    var k: Int = 20

    @Option(help: "Candidates within this distance are counted as inside.")
    var epsilon: Double = 0.1

    @Option(help: "l2 (normalised by the query's norm) or cosine.")
    var distance: String = "l2"

    @Option(help: "The JSON file to write.")
    var output: String

    @Option(help: "The folder holding activation stores (default: .loupe-store/ beside the corpus).")
    var store: String?

    @OptionGroup var progress: ProgressOptions

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1, got \(k)") }
        guard epsilon.isFinite, epsilon >= 0 else { throw ValidationError("--epsilon must be a finite number ≥ 0, got \(epsilon)") }
        guard PreimageDistance(rawValue: distance) != nil else {
            throw ValidationError("--distance must be l2 or cosine, got '\(distance)'")
        }
    }

    func run() throws {
        let modelURL = URL(fileURLWithPath: model)
        let gpt2 = try GPT2Model.load(directory: modelURL)
        let tokenizer = try TokenizerLoader.load(directory: modelURL)
        let bos = try prependBos ? Self.bos(tokenizer) : nil
        let contextLength = try Self.contextLength(context, model: gpt2, bos: bos)
        let site = try wrapped(head == nil ? "--hook" : "--hook/--head") { try PreimageSite(hook: hook, head: head, model: gpt2) }

        var tokens = tokenizer.encode(try TextInput.read(path: queryFile))
        if let bos { tokens.insert(bos, at: 0) }
        let query = try wrapped("--query-file \(queryFile)") {
            try PreimageQuery(model: gpt2, site: site, tokens: tokens, position: position, contextLength: contextLength)
        }

        let corpusURL = URL(fileURLWithPath: corpus)
        let documents = try Corpus.read(file: corpusURL)
        let inputs = PreimageStore.Inputs(model: modelURL, corpus: corpusURL, contextLength: contextLength, bos: bos, hook: hook)
        let root = store.map { URL(fileURLWithPath: $0) } ?? PreimageStore.defaultRoot(corpus: corpusURL)
        var line: ProgressLine?
        let (activations, _) = try PreimageStore.prepare(
            inputs: inputs, model: gpt2, tokenizer: tokenizer, corpus: documents, root: root,
            progress: { done, total in
                if line == nil { line = ProgressLine("storing activations", total: total, unit: "windows", quiet: progress.quiet) }
                line?.update(done)
            })
        line?.finish()

        let method = PreimageDistance(rawValue: distance)!
        let matches = try PreimageSearch.run(store: activations, query: query, distance: method, k: k, epsilon: epsilon,
            excluding: tokenizer.id(for: "<|endoftext|>"))
        let result = PreimageResult(
            matches: matches, query: query, distance: method, epsilon: epsilon, corpus: documents, tokenizer: tokenizer,
            windowStride: contextLength - (bos == nil ? 0 : 1))
        do {
            try (try JSONWriter.encode(result, layout: .pretty) + Data("\n".utf8)).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CLIError.unwritableOutput(path: output, reason: (error as NSError).localizedDescription)
        }
    }

    /// The tokenizer's `<|endoftext|>` id.
    static func bos(_ tokenizer: any Tokenizer) throws -> Int {
        guard let id = tokenizer.id(for: "<|endoftext|>") else {
            throw CLIError.invalidOption(name: "--prepend-bos", reason: "the tokenizer has no <|endoftext|> token")
        }
        return id
    }

    /// `--context`, or the model's context length; it must fit the model and hold a document token.
    static func contextLength(_ option: Int?, model: GPT2Model, bos: Int?) throws -> Int {
        let maximum = model.config.contextLength
        let value = option ?? maximum
        let minimum = bos == nil ? 1 : 2
        guard value >= minimum && value <= maximum else {
            throw CLIError.invalidOption(
                name: "--context", reason: "\(value) is outside \(minimum)…\(maximum) (the model's n_positions\(bos == nil ? "" : "; a window holds the BOS and at least one token"))")
        }
        return value
    }

    /// Runs `body`, reporting a `PreimageError` as an error of `option`.
    private func wrapped<T>(_ option: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PreimageError {
            var name = option
            if case .positionOutOfRange = error { name = "--position" }
            throw CLIError.invalidOption(name: name, reason: error.description)
        }
    }
}
