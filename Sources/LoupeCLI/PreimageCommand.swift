import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeModel

/// `loupe preimage`: the corpus positions whose activations at a hook lie nearest a query's, with
/// how many lie within ε (the retrieved ε-preimage of InversionView).
struct PreimageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preimage", abstract: "Find the corpus positions whose activation at a hook is nearest a query's; write JSON.",
        discussion: """
            The corpus (.txt: one document per line; .jsonl: {"text": ...}) is cut into windows of --context tokens \
            (with --prepend-bos: the BOS token and up to context − 1 document tokens); every position whose token is \
            not the BOS (<|endoftext|>) is a candidate. Its activations are stored once under --store (default .loupe-store/ beside the corpus) and \
            reused while model, corpus, context, BOS and hook stay the same. The query file is tokenised whole, like \
            `loupe tokenize`. Distances: l2 = ‖q − z‖ / ‖q‖, cosine = 1 − cos(q, z). Writes {"hook", "head", \
            "distance", "epsilon", "query": {"tokens", "position"}, "candidates", "inside", "neighbours": \
            [{"document", "position", "distance", "text"}]}; documents are 0-based lines of the corpus file.
            """)

    @OptionGroup var query: QueryOptions

    @Option(help: "The corpus file (.txt or .jsonl).")
    var corpus: String

    @Option(help: "Tokens per window, BOS included (default: the model's n_positions).")
    var context: Int?

    @Option(help: "Neighbours to list.")
    var k: Int = 20

    @Option(help: "The JSON file to write.")
    var output: String

    @Option(help: "The folder holding activation stores (default: .loupe-store/ beside the corpus).")
    var store: String?

    @OptionGroup var progress: ProgressOptions

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1, got \(k)") }
    }

    func run() throws {
        let (gpt2, tokenizer, bos, resolved) = try query.resolve(context: context)
        let contextLength = try QueryOptions.contextLength(context, model: gpt2, bos: bos)
        let corpusURL = URL(fileURLWithPath: corpus)
        let documents = try Corpus.read(file: corpusURL)
        let inputs = PreimageStore.Inputs(
            model: URL(fileURLWithPath: query.model), corpus: corpusURL, contextLength: contextLength, bos: bos, hook: query.hook)
        let root = store.map { URL(fileURLWithPath: $0) } ?? PreimageStore.defaultRoot(corpus: corpusURL)
        var line: ProgressLine?
        let (activations, _) = try PreimageStore.prepare(
            inputs: inputs, model: gpt2, tokenizer: tokenizer, corpus: documents, root: root,
            progress: { done, total in
                if line == nil { line = ProgressLine("storing activations", total: total, unit: "windows", quiet: progress.quiet) }
                line?.update(done)
            })
        line?.finish()

        let matches = try PreimageSearch.run(store: activations, query: resolved, distance: query.method, k: k, epsilon: query.epsilon,
            excluding: tokenizer.id(for: "<|endoftext|>"))
        let result = PreimageResult(
            matches: matches, query: resolved, distance: query.method, epsilon: query.epsilon, corpus: documents, tokenizer: tokenizer,
            windowStride: contextLength - (bos == nil ? 0 : 1))
        try JSONOutput.write(result, to: output)
    }
}
