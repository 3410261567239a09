import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld
import Testing

/// Windows of different lengths batched together (padded to the longest of their batch) give the
/// store equal-length batches give: the same chunks and rows, byte for byte, and the same activations up
/// to float rounding (OpenBLAS sums in another order for products under 10⁶ multiply-adds, which the
/// small batches of equal-length windows are): the demo model on ragged toy-world documents, three hooks.
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
                let worst = zip(padded.activations.scalars, reference.activations.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                #expect(padded.activations.shape == reference.activations.shape && worst < 1e-4, "\(hook), chunk \(chunk): \(worst)")
                chunk += 1
            }
            #expect(chunk == equal.count)
        }
    }
}
