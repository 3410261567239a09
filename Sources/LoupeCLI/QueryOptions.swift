import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeModel

/// The options naming one query activation (`loupe preimage`, `loupe decode`): the model, the site,
/// the query text and position, BOS, the distance and ε.
struct QueryOptions: ParsableArguments {
    @Option(help: "A Hugging Face GPT-2 model directory (config.json, model.safetensors, tokenizer).")
    var model: String

    @Option(help: "A TransformerLens hook with one row per token, e.g. blocks.1.hook_resid_post or blocks.0.attn.hook_z.")
    var hook: String

    @Option(help: "Compare only this head's slice of a per-head hook (attn.hook_q, hook_k, hook_v, hook_z, hook_result).")
    var head: Int?

    @Option(help: "The UTF-8 text file holding the query, tokenised whole.")
    var queryFile: String

    @Option(parsing: .unconditional, help: "The query position: a token index, 0-based, negative counting from the end.")
    var position: Int

    @Option(help: "Inputs within this distance are counted as inside.")
    var epsilon: Double = 0.1

    @Option(help: "l2 (normalised by the query's norm) or cosine.")
    var distance: String = "l2"

    @Flag(help: "Put the beginning-of-sequence token (<|endoftext|>) first (before the query, and every corpus window or sample).")
    var prependBos = false

    func validate() throws {
        guard epsilon.isFinite, epsilon >= 0 else { throw ValidationError("--epsilon must be a finite number ≥ 0, got \(epsilon)") }
        guard PreimageDistance(rawValue: distance) != nil else {
            throw ValidationError("--distance must be l2 or cosine, got '\(distance)'")
        }
    }

    /// The model, its tokenizer, the BOS id under `--prepend-bos`, and the query (which must fit
    /// `context` tokens, default the model's).
    func resolve(context: Int? = nil) throws -> (model: GPT2Model, tokenizer: any Tokenizer, bos: Int?, query: PreimageQuery) {
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
        return (gpt2, tokenizer, bos, query)
    }

    var method: PreimageDistance { PreimageDistance(rawValue: distance)! }

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
