import Foundation
import LoupeCore
import LoupeModel
import Testing

/// A pass started at a block from a cached `hook_resid_pre` equals the whole pass, and rejects what it skips.
@Suite struct ResumedForwardTests {
    let model: GPT2Model
    let tokens = [[5, 17, 23, 99, 140, 7], [8, 1, 44, 2, 300, 9]]

    init() throws {
        model = try GPT2Model.load(directory: Fixtures.url("gpt2-prefixed"))
    }

    @Test func aResumedPassGivesTheWholePassesValues() throws {
        let whole = try model.forward(tokens, ForwardRequest(cache: ["blocks.1.hook_resid_pre", "blocks.2.attn.hook_z"]))
        let resumed = try model.forward(tokens, ForwardRequest(
            cache: ["blocks.2.attn.hook_z"], start: (1, whole.cache["blocks.1.hook_resid_pre"]!)))
        #expect(resumed.logits!.maxAbsDifference(whole.logits!) == 0)
        #expect(resumed.cache["blocks.2.attn.hook_z"]!.maxAbsDifference(whole.cache["blocks.2.attn.hook_z"]!) == 0)
    }

    @Test func interventionsAfterTheStartApplyAsInAWholePass() throws {
        let whole = try model.forward(tokens, ForwardRequest(cache: ["blocks.2.hook_resid_pre"]))
        let zeroHead = Intervention(hook: "blocks.2.attn.hook_z", action: .zero, head: 1)
        let expected = try model.forward(tokens, ForwardRequest(interventions: [zeroHead])).logits!
        let resumed = try model.forward(tokens, ForwardRequest(
            interventions: [zeroHead], start: (2, whole.cache["blocks.2.hook_resid_pre"]!))).logits!
        #expect(resumed.maxAbsDifference(expected) == 0)
    }

    @Test func hooksBeforeTheStartAndBadStartsAreErrors() throws {
        let residual = Tensor(shape: [2, 6, 48])
        #expect(throws: ModelError.invalidInput(reason: "hook blocks.0.hook_mlp_out comes before the start layer 1")) {
            try model.forward(tokens, ForwardRequest(cache: ["blocks.0.hook_mlp_out"], start: (1, residual)))
        }
        #expect(throws: ModelError.invalidInput(reason: "hook hook_embed comes before the start layer 1")) {
            try model.forward(tokens, ForwardRequest(
                interventions: [Intervention(hook: "hook_embed", action: .zero)], start: (1, residual)))
        }
        #expect(throws: ModelError.invalidInput(reason: "start layer 3 outside 0..<3")) {
            try model.forward(tokens, ForwardRequest(start: (3, residual)))
        }
        #expect(throws: ModelError.invalidInput(reason: "the start residual has shape [2, 6, 47], expected [2, 6, 48]")) {
            try model.forward(tokens, ForwardRequest(start: (0, Tensor(shape: [2, 6, 47]))))
        }
        #expect(throws: ModelError.invalidInput(reason: "a recorded forward pass starts at the embeddings")) {
            try model.forward(tokens, ForwardRequest(recordTape: true, start: (0, residual)))
        }
    }
}
