import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel
import Testing
@testable import LoupeAnalysis

/// `PreimageStore` + `PreimageQuery` + `PreimageSearch` against `PreimageReference`, a float64
/// brute-force search over every window forwarded alone.
@Suite("Neighbourhoods: preimage search")
struct PreimageSearchTests {
    static let model = Result { try GPT2Model.load(directory: PreimageReference.modelDirectory) }
    static let tokenizer = Result { try TokenizerLoader.load(directory: PreimageReference.modelDirectory) }

    /// Lines 1 (empty) and 3 (spaces) are no documents; 0, 5 and 7 are equal; 6 is cut into several
    /// windows of 16 tokens; 9 holds the BOS token in its text.
    static let corpusText = """
        the cat sat on the mat

        a dog ran far away from the cat and the mat
           
        Hello there, world! How are you today?
        the cat sat on the mat
        numbers 12 34 56 78 and more words follow here, quite a long line to cut into several windows of tokens
        the cat sat on the mat
        zebra
        a<|endoftext|>b cat sat

        """

    struct Run {
        var result: PreimageResult
        var built: Bool
        var store: ActivationStore
    }

    /// Runs the engine as `loupe preimage` does.
    static func search(
        corpus: URL, root: URL, context: Int, bos: Bool, hook: String, head: Int? = nil, query: String, position: Int,
        distance: PreimageDistance, k: Int, epsilon: Double
    ) throws -> Run {
        let model = try Self.model.get(), tokenizer = try Self.tokenizer.get()
        let bosID = bos ? tokenizer.id(for: "<|endoftext|>") : nil
        let site = try PreimageSite(hook: hook, head: head, model: model)
        let query = try PreimageQuery(
            model: model, site: site, tokens: (bosID.map { [$0] } ?? []) + tokenizer.encode(query), position: position, contextLength: context)
        let documents = try Corpus.read(file: corpus)
        let inputs = PreimageStore.Inputs(
            model: PreimageReference.modelDirectory, corpus: corpus, contextLength: context, bos: bosID, hook: hook)
        let (store, built) = try PreimageStore.prepare(inputs: inputs, model: model, tokenizer: tokenizer, corpus: documents, root: root)
        let matches = try PreimageSearch.run(
            store: store, query: query, distance: distance, k: k, epsilon: epsilon, excluding: tokenizer.id(for: "<|endoftext|>"))
        let result = PreimageResult(
            matches: matches, query: query, distance: distance, epsilon: epsilon, corpus: documents, tokenizer: tokenizer,
            windowStride: context - (bos ? 1 : 0))
        return Run(result: result, built: built, store: store)
    }

    /// Compares the engine with the reference: counts exactly; at every rank the same distance (1e-6 between
    /// the reference's own ranks, so only float noise may swap near-equal candidates) and a candidate
    /// whose reference distance is within 1e-4 of the engine's.
    static func expectAgreement(_ result: PreimageResult, _ reference: PreimageReference, k: Int, inside: Int) throws {
        #expect(result.candidates == reference.hits.count)
        #expect(result.inside == inside)
        #expect(result.query == PreimageQueryTokens(tokens: reference.queryTokens, position: reference.queryPosition))
        #expect(result.neighbours.count == min(k, reference.hits.count))
        let byKey = Dictionary(uniqueKeysWithValues: reference.hits.map { ("\($0.line):\($0.position)", $0.distance) })
        #expect(Set(result.neighbours.map { "\($0.document):\($0.position)" }).count == result.neighbours.count)
        for (rank, neighbour) in result.neighbours.enumerated() {
            let distance = try #require(byKey["\(neighbour.document):\(neighbour.position)"], "rank \(rank) is no candidate")
            #expect(abs(neighbour.distance - distance) <= 1e-4, "rank \(rank)")
            #expect(abs(distance - reference.hits[rank].distance) <= 1e-6, "rank \(rank)")
            if rank > 0 { #expect(result.neighbours[rank - 1].distance <= neighbour.distance) }
        }
    }

    func corpusFile(_ text: String = PreimageSearchTests.corpusText) throws -> (CorpusTemporaryDirectory, URL) {
        let directory = try CorpusTemporaryDirectory()
        return (directory, try directory.file("corpus.txt", Array(text.utf8)))
    }

    func check(
        context: Int, bos: Bool, hook: String, head: Int? = nil, query: String, position: Int, distance: PreimageDistance,
        k: Int, rank: Int
    ) throws -> PreimageResult {
        let (directory, corpus) = try corpusFile()
        let reference = try PreimageReference(
            model: Self.model.get(), tokenizer: Self.tokenizer.get(), corpusText: Self.corpusText, context: context, bos: bos,
            hook: hook, head: head, query: query, position: position, distance: distance)
        let (epsilon, inside) = try reference.epsilon(near: rank)
        let run = try Self.search(
            corpus: corpus, root: directory.url.appendingPathComponent("store"), context: context, bos: bos, hook: hook, head: head,
            query: query, position: position, distance: distance, k: k, epsilon: epsilon)
        try Self.expectAgreement(run.result, reference, k: k, inside: inside)
        #expect(inside == reference.inside(epsilon) && inside > 0 && inside < reference.hits.count)
        return run.result
    }

    @Test func l2OverSeveralWindowsMatchesBruteForce() throws {
        let result = try check(
            context: 16, bos: false, hook: "blocks.1.hook_resid_post", query: "the dog sat on", position: -1, distance: .l2, k: 25, rank: 6)
        #expect(result.head == nil && result.hook == "blocks.1.hook_resid_post" && result.distance == "l2")
        // Document 6 holds more than 16 tokens, so positions past the first window are listed too.
        let long = try Self.tokenizer.get().encode(Self.corpusText.components(separatedBy: "\n")[6]).count
        #expect(long > 32)
    }

    @Test func cosineWithBOSMatchesBruteForce() throws {
        _ = try check(
            context: 12, bos: true, hook: "blocks.2.hook_resid_post", query: "Hello there", position: -2, distance: .cosine, k: 30, rank: 10)
    }

    @Test func headSliceOfHookZMatchesBruteForce() throws {
        let result = try check(
            context: 20, bos: true, hook: "blocks.1.attn.hook_z", head: 2, query: "a dog ran", position: 3, distance: .l2, k: 20, rank: 4)
        #expect(result.head == 2)
    }

    @Test func mlpPostWithoutBOSMatchesBruteForce() throws {
        _ = try check(
            context: 64, bos: false, hook: "blocks.0.mlp.hook_post", query: "zebra cat", position: -1, distance: .cosine, k: 10, rank: 3)
    }

    @Test func equalDistancesAreOrderedByDocumentThenPosition() throws {
        let (directory, corpus) = try corpusFile()
        let run = try Self.search(
            corpus: corpus, root: directory.url, context: 64, bos: true, hook: "blocks.2.hook_resid_mid",
            query: "the cat sat on the mat", position: -1, distance: .l2, k: 5, epsilon: 0.1)
        let last = try Self.tokenizer.get().encode("the cat sat on the mat").count - 1
        let top = Array(run.result.neighbours.prefix(3))
        #expect(top.map(\.document) == [0, 5, 7])
        #expect(top.map(\.position) == [last, last, last])
        #expect(top[0].distance == top[1].distance && top[1].distance == top[2].distance)
        #expect(top[0].distance < 1e-4)
        #expect(run.result.inside == 3)
        #expect(top[0].text.hasSuffix("the mat"))
    }

    @Test func documentsAreLinesAndTheBOSTokenIsNeverACandidate() throws {
        let (directory, corpus) = try corpusFile()
        let tokenizer = try Self.tokenizer.get()
        let run = try Self.search(
            corpus: corpus, root: directory.url, context: 64, bos: false, hook: "blocks.0.hook_resid_pre",
            query: "a<|endoftext|>b cat", position: -1, distance: .l2, k: 1000, epsilon: 0.5)
        let lines = Self.corpusText.components(separatedBy: "\n")
        let expected = lines.enumerated().flatMap { line, text in
            text.allSatisfy(\.isWhitespace) ? [] : tokenizer.encode(text).enumerated().filter { $0.element != 0 }.map { "\(line):\($0.offset)" }
        }
        #expect(run.result.neighbours.map { "\($0.document):\($0.position)" }.sorted() == expected.sorted())
        #expect(!run.result.neighbours.contains { $0.document == 1 || $0.document == 3 })
        #expect(run.result.candidates == expected.count)
    }

    @Test func storeIsReusedUntilAnInputChanges() throws {
        let (directory, corpus) = try corpusFile()
        let root = directory.url.appendingPathComponent("stores")
        func run(context: Int = 16, bos: Bool = false, hook: String = "blocks.0.hook_mlp_out") throws -> Run {
            try Self.search(corpus: corpus, root: root, context: context, bos: bos, hook: hook, query: "cat", position: 0, distance: .l2, k: 3, epsilon: 0.1)
        }
        let first = try run()
        #expect(first.built)
        let manifest = first.store.directory.appendingPathComponent("manifest.json")
        let stamp = try FileManager.default.attributesOfItem(atPath: manifest.path)[.modificationDate] as? Date
        let second = try run()
        #expect(!second.built)
        #expect(second.store.directory.path == first.store.directory.path)
        #expect(try FileManager.default.attributesOfItem(atPath: manifest.path)[.modificationDate] as? Date == stamp)
        #expect(second.result == first.result)
        for changed in [try run(context: 20), try run(bos: true), try run(hook: "blocks.1.hook_mlp_out")] {
            #expect(changed.built)
            #expect(changed.store.directory.path != first.store.directory.path)
        }
        try Data((Self.corpusText + "one more line\n").utf8).write(to: corpus)
        let edited = try run()
        #expect(edited.built)
        #expect(edited.result.candidates > first.result.candidates)
        // A store whose build stopped before its manifest is built again.
        try FileManager.default.removeItem(at: manifest)
        try Data(Self.corpusText.utf8).write(to: corpus)
        #expect(try run().built)
    }

    @Test func sitesQueriesAndSettingsAreChecked() throws {
        let model = try Self.model.get()
        #expect(throws: PreimageError.self) { try PreimageSite(hook: "blocks.9.hook_resid_post", head: nil, model: model) }
        #expect(throws: PreimageError.self) { try PreimageSite(hook: "blocks.0.attn.hook_pattern", head: nil, model: model) }
        #expect(throws: PreimageError.self) { try PreimageSite(hook: "blocks.0.hook_resid_post", head: 0, model: model) }
        #expect(throws: PreimageError.self) { try PreimageSite(hook: "blocks.0.attn.hook_z", head: 4, model: model) }
        #expect(try PreimageSite(hook: "blocks.0.attn.hook_result", head: 3, model: model).columns == 144..<192)
        #expect(try PreimageSite(hook: "blocks.0.attn.hook_v", head: nil, model: model).columns == 0..<48)
        let site = try PreimageSite(hook: "blocks.0.hook_resid_post", head: nil, model: model)
        #expect(throws: PreimageError.positionOutOfRange(position: 3, tokens: 3)) {
            try PreimageQuery(model: model, site: site, tokens: [5, 6, 7], position: 3, contextLength: 8)
        }
        #expect(throws: PreimageError.positionOutOfRange(position: -4, tokens: 3)) {
            try PreimageQuery(model: model, site: site, tokens: [5, 6, 7], position: -4, contextLength: 8)
        }
        #expect(try PreimageQuery(model: model, site: site, tokens: [5, 6, 7], position: -3, contextLength: 8).position == 0)
        #expect(throws: PreimageError.self) { try PreimageQuery(model: model, site: site, tokens: Array(1...9), position: 0, contextLength: 8) }
        #expect(throws: PreimageError.self) { try PreimageQuery(model: model, site: site, tokens: [], position: 0, contextLength: 8) }
    }

    @Test func rowProductsMatchDoublePrecisionOnAColumnRange() throws {
        var rng = SeededRandom(seed: 7)
        let matrix = try Tensor(shape: [5, 7], scalars: (0..<35).map { _ in rng.nextUniform() - 0.5 })
        let query: [Float] = [0.5, -1, 2]
        let (dots, norms) = matrix.rowProducts(with: query, columns: 2..<5)
        for row in 0..<5 {
            let values = (2..<5).map { Double(matrix.scalars[row * 7 + $0]) }
            #expect(abs(Double(dots[row]) - zip(values, query).reduce(0) { $0 + $1.0 * Double($1.1) }) < 1e-6)
            #expect(abs(Double(norms[row]) - values.reduce(0) { $0 + $1 * $1 }) < 1e-6)
        }
    }

    /// The float32 interval always holds the float64 distance, also for rows almost equal to the query
    /// (where `‖q‖² − 2q·z + ‖z‖²` cancels) and for wide rows.
    @Test(arguments: [PreimageDistance.l2, .cosine], [48, 3072])
    func float32BoundsHoldTheExactDistance(distance: PreimageDistance, width: Int) throws {
        var rng = SeededRandom(seed: UInt64(width))
        let query = (0..<width).map { _ in rng.nextUniform() * 4 - 2 }
        var rows: [Float] = []
        for row in 0..<64 {
            let noise = Float(row % 8) * 1e-4 * Float(row / 8 + 1)
            let scale: Float = row % 3 == 0 ? 1 : 1.5
            rows += query.map { $0 * scale + noise * (rng.nextUniform() - 0.5) }
        }
        let matrix = try Tensor(shape: [64, width], scalars: rows)
        let (dots, norms) = matrix.rowProducts(with: query, columns: 0..<width)
        let scorer = PreimageScorer(query: query.map(Double.init), distance: distance)
        var tightest = Double.infinity
        for row in 0..<64 {
            let bounds = scorer.bounds(dot: Double(dots[row]), squaredNorm: Double(norms[row]))
            let exact = rows.withUnsafeBufferPointer { scorer.exact(UnsafeBufferPointer(rebasing: $0[row * width..<(row + 1) * width])) }
            #expect(bounds.lower <= exact && exact <= bounds.upper, "row \(row): \(exact) outside \(bounds)")
            tightest = min(tightest, bounds.upper - bounds.lower)
        }
        #expect(tightest < (distance == .l2 ? 0.05 : 0.01))
    }
}
