import Foundation
import LoupeCore
import LoupeModel
import Testing

/// The loss reduced from logits made a block of rows at a time equals the loss of the whole logits
/// matrix, with and without interventions, and keeps the hooks asked for.
@Suite struct NextTokenLossTests {
    @Test func blockedLossEqualsTheWholeMatrixLoss() throws {
        let model = try GPT2Model.load(directory: Fixtures.url("gpt2-prefixed"))
        let tokens = [[5, 17, 23, 99, 140, 7, 3], [8, 2, 61, 99, 14, 70, 11]]
        let targets = tokens.flatMap { sequence in sequence.indices.map { $0 + 1 < sequence.count ? sequence[$0 + 1] : -1 } }
        for request in [ForwardRequest(cache: ["blocks.0.hook_resid_post"]), ForwardRequest(interventions: [Intervention(hook: "blocks.1.hook_resid_mid", action: .zero)])] {
            let whole = CrossEntropy.lossAndGradient(logits: try model.forward(tokens, request).logits!, targets: targets).loss
            for blockRows in [1, 5, 14, 256] {
                let (loss, cache) = try model.nextTokenLoss(tokens, request, blockRows: blockRows)
                #expect(loss.predictions == 12)
                #expect(abs(loss.mean - Double(whole)) < 1e-5, "blocks of \(blockRows): \(loss.mean) against \(whole)")
                #expect(Set(cache.hooks) == request.cache)
            }
        }
        #expect(throws: ModelError.self) { try model.nextTokenLoss(tokens, blockRows: 0) }
    }

    @Test func lossSumIsTheMeanLossTimesTheCountedRows() {
        var rng = SeededRandom(seed: 3)
        let logits = try! Tensor(shape: [9, 37], scalars: (0..<(9 * 37)).map { _ in Float(rng.nextUniform()) * 8 - 4 })
        let targets = [3, -1, 36, 0, 12, -1, 5, 5, 20]
        let (sum, counted) = CrossEntropy.lossSum(logits: logits, targets: targets)
        #expect(counted == 7)
        #expect(abs(sum / 7 - Double(CrossEntropy.lossAndGradient(logits: logits, targets: targets).loss)) < 1e-6)
    }
}
