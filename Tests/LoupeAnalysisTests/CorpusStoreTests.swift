import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeAnalysis

/// A tiny model, tokenizer and corpus for store and atlas tests.
struct CorpusFixture {
    let corpus: Corpus
    let tokenizer: CharacterTokenizer
    let model: GPT2Model
    let tokens: TokenizedCorpus

    init(documents: Int = 9, contextLength: Int = 12, seed: UInt64 = 3) throws {
        var rng = SeededRandom(seed: seed)
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
        var texts: [String] = []
        for _ in 0..<documents {
            let length = 1 + rng.nextInt(below: 9)
            texts.append((0..<length).map { _ in words[rng.nextInt(below: words.count)] }.joined(separator: " "))
        }
        corpus = Corpus(documents: texts)
        tokenizer = try CharacterTokenizer(coveringScalarsOf: texts.joined(separator: " "))
        let config = GPT2Config(vocabularySize: tokenizer.vocabularySize, contextLength: contextLength, width: 16, heads: 2, layers: 2)
        model = GPT2Model(config: config, weights: GPT2Weights.random(config: config, seed: seed))
        tokens = TokenizedCorpus(corpus: corpus, tokenizer: tokenizer)
    }
}

@Suite("Corpus: activation store")
struct CorpusStoreTests {
    @Test func storeRoundTripsEveryRowOnceInChunks() throws {
        let fixture = try CorpusFixture()
        let windows = try fixture.tokens.windows(contextLength: 12, bos: 0)
        let dir = try CorpusTemporaryDirectory()
        let hooks = ["blocks.1.hook_resid_post", "blocks.0.mlp.hook_post", "blocks.0.attn.hook_z"]
        var calls: [(Int, Int)] = []
        let store = try ActivationStore.build(
            model: fixture.model, windows: windows, hooks: hooks, directory: dir.url,
            options: ActivationStoreOptions(chunkRows: 30, batchTokens: 24)) { calls.append(($0, $1)) }
        #expect(store.hooks == hooks.sorted())
        #expect(try store.width(of: "blocks.0.attn.hook_z") == 16)
        #expect(try store.width(of: "blocks.0.mlp.hook_post") == 64)
        #expect(store.chunkCount > 2)
        #expect(store.manifest.chunkRows.allSatisfy { $0 <= 30 })
        #expect(store.manifest.rows == windows.reduce(0) { $0 + $1.count })
        #expect(store.manifest.tokens == fixture.tokens.tokenCount)
        #expect(store.manifest.windows == windows.count)
        #expect(store.manifest.windowStride == 11)
        #expect(store.manifest.bos == 0)
        #expect(calls.last.map { $0 == (windows.count, windows.count) } == true)
        #expect(zip(calls, calls.dropFirst()).allSatisfy { $0.0 < $1.0 })

        // Reference activations: each window alone.
        var expected: [String: [Int: [Float]]] = [:]
        var specialRows = 0
        for window in windows {
            let result = try fixture.model.forward([window.tokens], ForwardRequest(cache: Set(hooks), computeLogits: false))
            for hook in hooks {
                let tensor = try #require(result.cache[hook])
                let width = tensor.count / window.count
                for index in 0..<window.count {
                    guard let position = window.position(at: index) else { continue }
                    expected[hook, default: [:]][window.document * 1_000 + position] =
                        Array(tensor.scalars[(index * width)..<((index + 1) * width)])
                }
            }
            specialRows += 1
        }
        for hook in hooks {
            var seen: [Int] = []
            var specials = 0
            var worst: Float = 0
            try store.forEachChunk(hook: hook) { chunk in
                for row in 0..<chunk.rowCount {
                    if chunk.special[row] {
                        specials += 1
                        #expect(chunk.positions[row] == -1 && chunk.tokens[row] == 0)
                        continue
                    }
                    let key = chunk.documents[row] * 1_000 + chunk.positions[row]
                    seen.append(key)
                    #expect(chunk.tokens[row] == fixture.tokens.documents[chunk.documents[row]][chunk.positions[row]])
                    let reference = try #require(expected[hook]?[key])
                    for (a, b) in zip(reference, chunk.activations.scalars[(row * chunk.width)..<((row + 1) * chunk.width)]) {
                        worst = max(worst, abs(a - b))
                    }
                }
            }
            let all = fixture.tokens.documents.enumerated().flatMap { document, ids in ids.indices.map { document * 1_000 + $0 } }
            #expect(seen.sorted() == all.sorted())
            #expect(seen.count == all.count)
            #expect(specials == specialRows)
            #expect(worst < 1e-5)
        }

        let reopened = try ActivationStore(directory: dir.url)
        #expect(reopened.manifest == store.manifest)
        #expect(try reopened.chunk(1, hook: hooks[0]) == store.chunk(1, hook: hooks[0]))
    }

    @Test func windowsStayWholeInsideChunks() throws {
        let fixture = try CorpusFixture(documents: 12)
        let windows = try fixture.tokens.windows(contextLength: 5)
        let dir = try CorpusTemporaryDirectory()
        let store = try ActivationStore.build(
            model: fixture.model, windows: windows, hooks: ["hook_embed"], directory: dir.url,
            options: ActivationStoreOptions(chunkRows: 7, batchTokens: 100))
        var pieces = 0
        try store.forEachChunk(hook: "hook_embed") { chunk in
            let layout = ChunkLayout(chunk: chunk, blockRows: 3)
            pieces += layout.runs.count
            for run in layout.runs {
                #expect(run.count == windows.first { $0.document == chunk.documents[run.lowerBound] && $0.start == chunk.positions[run.lowerBound] }?.count)
                #expect(layout.blocks.contains { $0.contains(run.lowerBound) && $0.contains(run.upperBound - 1) })
            }
        }
        #expect(pieces == windows.count)
    }

    @Test func storeWrittenFromRawChunksReadsBackAsGiven() throws {
        let dir = try CorpusTemporaryDirectory()
        var rng = SeededRandom(seed: 4)
        // Two chunks of windows of stride 3 with a BOS row first: documents 0–1, then document 2.
        func chunk(documents: [Int]) throws -> ActivationChunk {
            let rows = documents.count * 4
            var activations = Tensor(shape: [rows, 5])
            for index in 0..<activations.count { activations.scalars[index] = rng.nextNormal() }
            return try ActivationChunk(
                activations: activations, documents: documents.flatMap { Array(repeating: $0, count: 4) },
                positions: documents.flatMap { _ in [-1, 0, 1, 2] }, tokens: documents.flatMap { _ in [9, 1, 2, 3] },
                special: documents.flatMap { _ in [true, false, false, false] }, windowStride: 3)
        }
        let chunks = [try chunk(documents: [0, 1]), try chunk(documents: [2])]
        var next = chunks.makeIterator()
        let store = try ActivationStore.write(hook: "blocks.0.hook_resid_post", width: 5, windowStride: 3, bos: 9, directory: dir.url) { next.next() }
        #expect(store.hooks == ["blocks.0.hook_resid_post"])
        #expect(store.manifest.chunkRows == [8, 4])
        #expect((store.manifest.documents, store.manifest.windows, store.manifest.rows, store.manifest.tokens) == (3, 3, 12, 9))
        #expect(store.manifest.bos == 9)
        for index in chunks.indices {
            #expect(try ActivationStore(directory: dir.url).chunk(index, hook: "blocks.0.hook_resid_post") == chunks[index])
        }
        #expect(throws: CorpusError.self) {
            try ActivationStore.write(hook: "h", width: 4, windowStride: 3, bos: nil, directory: dir.url) { chunks.first }
        }
    }

    @Test func storeErrorsNameTheProblem() throws {
        let fixture = try CorpusFixture()
        let windows = try fixture.tokens.windows(contextLength: 12)
        let dir = try CorpusTemporaryDirectory()
        #expect(throws: CorpusError.unsupportedHook(name: "blocks.0.attn.hook_pattern", reason: "attention scores and patterns are [B, H, T, T], not one row per token")) {
            try ActivationStore.build(model: fixture.model, windows: windows, hooks: ["blocks.0.attn.hook_pattern"], directory: dir.url)
        }
        #expect(throws: CorpusError.unsupportedHook(name: "blocks.9.hook_resid_post", reason: "the model has no such hook point")) {
            try ActivationStore.build(model: fixture.model, windows: windows, hooks: ["blocks.9.hook_resid_post"], directory: dir.url)
        }
        #expect(throws: CorpusError.self) {
            try ActivationStore.build(model: fixture.model, windows: [], hooks: ["hook_embed"], directory: dir.url)
        }
        let long = try fixture.tokens.windows(contextLength: 40)
        #expect(throws: CorpusError.self) {
            try ActivationStore.build(model: fixture.model, windows: long, hooks: ["hook_embed"], directory: dir.url)
        }
        #expect(throws: CorpusError.self) { try ActivationStore(directory: dir.url.appendingPathComponent("missing")) }

        let store = try ActivationStore.build(model: fixture.model, windows: windows, hooks: ["hook_embed"], directory: dir.url)
        #expect(throws: CorpusError.hookNotInStore(path: dir.url.path, hook: "hook_pos_embed", available: ["hook_embed"])) {
            try store.chunk(0, hook: "hook_pos_embed")
        }
        let file = ActivationStore.chunkDirectory(dir.url, 0).appendingPathComponent("hook_embed.safetensors")
        try Data([1, 2, 3]).write(to: file)
        #expect(throws: CorpusError.self) { try store.chunk(0, hook: "hook_embed") }
        #expect(throws: CorpusError.self) {
            try ActivationChunk(activations: Tensor(shape: [2, 3]), documents: [0], positions: [0, 1], tokens: [1, 2], special: [false, false], windowStride: 4)
        }
    }
}
