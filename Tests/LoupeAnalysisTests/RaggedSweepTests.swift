import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld
import Testing

/// Windows of different lengths batched together (padded to the longest of their batch) give the
/// store equal-length batches give, byte for byte (chunks, rows and activations), and so the same atlas
/// findings: the demo model on ragged toy-world documents, three hooks.
@Suite struct RaggedSweepTests {
    static let model = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Reports/demo/model")

    @Test func paddedBatchesGiveTheStoreOfEqualLengthBatches() throws {
        let model = try GPT2Model.load(directory: Self.model)
        let world = ToyWorld()
        var rng = SeededRandom(seed: 11)
        let texts = (0..<60).map { index in world.documents(count: 1, length: 8 + index * 3 % 90, rng: &rng)[0] }
        let corpus = TokenizedCorpus(corpus: Corpus(documents: texts), tokenizer: world.tokenizer)
        let windows = try corpus.windows(contextLength: 64, bos: world.endOfTextID)
        #expect(Set(windows.map(\.count)).count > 20)
        let hooks = ["blocks.0.hook_resid_pre", "blocks.1.attn.hook_z", "blocks.3.hook_resid_post"]
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-ragged-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var stores: [ActivationStore] = []
        for ratio in [1.0, 0.5] {
            stores.append(try ActivationStore.build(
                model: model, windows: windows, hooks: hooks, directory: root.appendingPathComponent("\(ratio)"),
                options: ActivationStoreOptions(chunkRows: 700, batchTokens: 1024, minimumLengthRatio: ratio)))
        }
        #expect(stores[0].manifest == stores[1].manifest)
        #expect(stores[0].chunkCount > 4)
        for hook in hooks {
            var equal: [ActivationChunk] = []
            try stores[0].forEachChunk(hook: hook) { equal.append($0) }
            var chunk = 0
            try stores[1].forEachChunk(hook: hook) { padded in
                let reference = equal[chunk]
                #expect(padded.documents == reference.documents && padded.positions == reference.positions)
                #expect(padded.tokens == reference.tokens && padded.special == reference.special)
                let differing = zip(padded.activations.scalars, reference.activations.scalars).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(padded.activations.shape == reference.activations.shape && differing == 0, "\(hook), chunk \(chunk): \(differing) values differ")
                chunk += 1
            }
            #expect(chunk == equal.count)
        }
        let atlases = try stores.map { store in
            try JSONWriter.encode(try AtlasBuilder().build(
                store: store, hook: "blocks.3.hook_resid_post", featureCount: 128, encoder: AtlasBuilder.identity,
                tokenizer: world.tokenizer, decoder: nil, model: model).features)
        }
        #expect(atlases[0] == atlases[1], "the atlas findings of both stores are the same bytes")
    }
}
