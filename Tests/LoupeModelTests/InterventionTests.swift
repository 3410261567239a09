import Foundation
import LoupeCore
import LoupeModel
import Testing

/// Interventions change exactly what they target, and patching reproduces the source run.
@Suite struct InterventionTests {
    let model: GPT2Model
    let clean = [[5, 17, 23, 99, 140, 7]]
    let corrupted = [[5, 17, 61, 99, 140, 7]]

    init() throws {
        model = try GPT2Model.load(directory: Fixtures.url("gpt2-prefixed"))
    }

    @Test func everyHookPointIsCapturedWithItsDocumentedShape() throws {
        let result = try model.forward(clean, ForwardRequest(cache: Set(model.hookNames)))
        let (t, c, h, d, m) = (6, 48, 4, 12, 80)
        #expect(result.cache.hooks.count == model.hookNames.count)
        #expect(result.cache["hook_embed"]?.shape == [1, t, c])
        #expect(result.cache["blocks.1.attn.hook_q"]?.shape == [1, t, h, d])
        #expect(result.cache["blocks.1.attn.hook_attn_scores"]?.shape == [1, h, t, t])
        #expect(result.cache["blocks.1.attn.hook_pattern"]?.shape == [1, h, t, t])
        #expect(result.cache["blocks.1.attn.hook_result"]?.shape == [1, t, h, c])
        #expect(result.cache["blocks.2.mlp.hook_post"]?.shape == [1, t, m])
        #expect(result.cache["ln_final.hook_normalized"]?.shape == [1, t, c])
    }

    @Test func capturingPerHeadResultsDoesNotChangeTheOutput() throws {
        let plain = try model.forward(clean).logits!
        let withResults = try model.forward(clean, ForwardRequest(cache: ["blocks.0.attn.hook_result"])).logits!
        #expect(plain.maxAbsDifference(withResults) < 1e-5)
    }

    @Test func patchingAHookFromAnotherRunReproducesThatRunDownstream() throws {
        let source = try model.forward(corrupted, ForwardRequest(cache: ["blocks.1.hook_resid_post"]))
        let patched = try model.forward(clean, ForwardRequest(
            interventions: [Intervention(hook: "blocks.1.hook_resid_post", action: .patch(source.cache))]))
        #expect(patched.logits!.maxAbsDifference(source.logits!) < 1e-5)
    }

    @Test func patchingOneHeadChangesOnlyThatHead() throws {
        let source = try model.forward(corrupted, ForwardRequest(cache: ["blocks.0.attn.hook_z"]))
        let cleanRun = try model.forward(clean, ForwardRequest(cache: ["blocks.0.attn.hook_z"]))
        let patched = try model.forward(clean, ForwardRequest(
            cache: ["blocks.0.attn.hook_z"],
            interventions: [Intervention(hook: "blocks.0.attn.hook_z", action: .patch(source.cache), head: 2)]))
        let z = patched.cache["blocks.0.attn.hook_z"]!
        let (t, h, d) = (6, 4, 12)
        for position in 0..<t {
            for head in 0..<h {
                for k in 0..<d {
                    let i = (position * h + head) * d + k
                    let expected = head == 2 ? source.cache["blocks.0.attn.hook_z"]!.scalars[i] : cleanRun.cache["blocks.0.attn.hook_z"]!.scalars[i]
                    #expect(z.scalars[i] == expected)
                }
            }
        }
        #expect(patched.logits!.maxAbsDifference(cleanRun.logits!) > 1e-4)
    }

    @Test func zeroAddScaleAndReplaceAtOnePosition() throws {
        let hook = "blocks.0.hook_mlp_out"
        let base = try model.forward(clean, ForwardRequest(cache: [hook]))
        let original = base.cache[hook]!
        func run(_ action: Intervention.Action) throws -> Tensor {
            try model.forward(clean, ForwardRequest(cache: [hook], interventions: [Intervention(hook: hook, action: action, position: 3)])).cache[hook]!
        }
        let c = 48
        let zeroed = try run(.zero)
        let scaled = try run(.scale(2))
        let ones = Tensor(shape: original.shape, repeating: 1)
        let added = try run(.add(ones))
        let replaced = try run(.replace(ones))
        for position in 0..<6 {
            for k in 0..<c {
                let i = position * c + k
                let value = original.scalars[i]
                #expect(zeroed.scalars[i] == (position == 3 ? 0 : value))
                #expect(scaled.scalars[i] == (position == 3 ? 2 * value : value))
                #expect(added.scalars[i] == (position == 3 ? value + 1 : value))
                #expect(replaced.scalars[i] == (position == 3 ? 1 : value))
            }
        }
    }

    @Test func zeroingTheAttentionPatternOfAQueryRowSilencesItsHead() throws {
        let hooks: Set = ["blocks.0.attn.hook_z"]
        let result = try model.forward(clean, ForwardRequest(
            cache: hooks, interventions: [Intervention(hook: "blocks.0.attn.hook_pattern", action: .zero, head: 1, position: 4)]))
        let z = result.cache["blocks.0.attn.hook_z"]!
        for k in 0..<12 { #expect(z.scalars[(4 * 4 + 1) * 12 + k] == 0) }
        #expect(z.scalars[(3 * 4 + 1) * 12] != 0)
    }

    @Test func invalidInterventionsAreRejected() throws {
        let wrongShape = Intervention(hook: "blocks.0.hook_resid_pre", action: .replace(Tensor(shape: [1, 2, 48])))
        #expect(throws: ModelError.self) { try model.forward(clean, ForwardRequest(interventions: [wrongShape])) }
        let headless = Intervention(hook: "blocks.0.hook_resid_pre", action: .zero, head: 0)
        #expect(throws: ModelError.self) { try model.forward(clean, ForwardRequest(interventions: [headless])) }
        let badHead = Intervention(hook: "blocks.0.attn.hook_z", action: .zero, head: 4)
        #expect(throws: ModelError.self) { try model.forward(clean, ForwardRequest(interventions: [badHead])) }
        let missing = Intervention(hook: "blocks.0.attn.hook_z", action: .patch(ActivationCache()))
        #expect(throws: ModelError.self) { try model.forward(clean, ForwardRequest(interventions: [missing])) }
        var resized = Tensor(shape: [1, 6, 48])
        resized.scalars.removeLast()
        let short = Intervention(hook: "blocks.0.hook_resid_pre", action: .add(resized))
        #expect(throws: ModelError.invalidIntervention(
            hook: "blocks.0.hook_resid_pre", reason: "values of shape [1, 6, 48] hold 287 numbers, expected 288")) {
            try model.forward(clean, ForwardRequest(interventions: [short]))
        }
        let badPosition = Intervention(hook: "blocks.0.hook_resid_pre", action: .zero, position: 6)
        #expect(throws: ModelError.invalidIntervention(hook: "blocks.0.hook_resid_pre", reason: "position 6 outside 0..<6")) {
            try model.forward(clean, ForwardRequest(interventions: [badPosition]))
        }
    }
}
