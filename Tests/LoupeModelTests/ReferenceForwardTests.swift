import Foundation
import LoupeCore
import LoupeModel
import Testing

/// Compares Loupe's forward pass with Hugging Face transformers on the committed reference models.
@Suite struct ReferenceForwardTests {
    static let models = ["gpt2-prefixed", "gpt2-bare", "gpt2-half"]

    @Test(arguments: models)
    func logitsAndEveryHookMatchTransformers(model name: String) throws {
        let model = try GPT2Model.load(directory: Fixtures.url(name))
        let reference = try SafetensorsFile(url: Fixtures.url("\(name)/reference.safetensors"))
        let tokenizer = try TokenizerLoader.load(directory: Fixtures.url(name))
        let texts = try Fixtures.referenceTexts(name)
        #expect(texts.count >= 4)
        for index in texts.indices {
            let prefix = "case\(index)/"
            let tokens = try reference.integers(prefix + "tokens")
            #expect(tokenizer.encode(texts[index]) == tokens, "\(name) case \(index) tokens")
            let hooks = reference.names.filter { $0.hasPrefix(prefix) && $0 != prefix + "tokens" && $0 != prefix + "logits" }
                .map { String($0.dropFirst(prefix.count)) }
            #expect(hooks.count >= 2 + 14 * model.config.layers)
            let result = try model.forward([tokens], ForwardRequest(cache: Set(hooks)))
            var worst: (Float, String) = (0, "")
            for hook in hooks + ["logits"] {
                let expected = try reference.tensor(prefix + hook)
                let found = hook == "logits" ? result.logits! : result.cache[hook]!
                #expect(found.shape == [1] + expected.shape, "\(name) \(hook)")
                let difference = try found.reshaped(expected.shape).maxAbsDifference(expected)
                if difference > worst.0 { worst = (difference, hook) }
            }
            #expect(worst.0 <= 1e-4, "\(name) case \(index): largest difference \(worst.0) at \(worst.1)")
        }
    }

    @Test func batchedForwardEqualsSingleSequences() throws {
        let model = try GPT2Model.load(directory: Fixtures.url("gpt2-prefixed"))
        let a = [1, 5, 9, 20, 33, 7], b = [2, 2, 2, 40, 41, 42]
        let batch = try model.forward([a, b]).logits!
        let first = try model.forward([a]).logits!
        let second = try model.forward([b]).logits!
        #expect(try batch.slice(0).maxAbsDifference(first.reshaped([6, model.config.vocabularySize])) < 1e-5)
        #expect(try batch.slice(1).maxAbsDifference(second.reshaped([6, model.config.vocabularySize])) < 1e-5)
    }

    @Test func forwardWithoutLogitsStopsAtTheDeepestCachedHook() throws {
        let model = try GPT2Model.load(directory: Fixtures.url("gpt2-prefixed"))
        #expect(model.config.layers == 3)
        let tokens = [[3, 4, 5, 6]]
        let full = try model.forward(tokens, ForwardRequest(cache: ["blocks.1.hook_resid_post"]))
        // A replacement of the wrong shape throws as soon as its hook is reached, so a pass that
        // returns normally never ran block 2.
        let tripwire = Intervention(hook: "blocks.2.hook_resid_pre", action: .replace(Tensor(shape: [1, 1, 48])))
        #expect(throws: ModelError.invalidIntervention(
            hook: "blocks.2.hook_resid_pre", reason: "values have shape [1, 1, 48], the hook has [1, 4, 48]")) {
            try model.forward(tokens, ForwardRequest(cache: ["blocks.1.hook_resid_post"], interventions: [tripwire]))
        }
        let partial = try model.forward(
            tokens, ForwardRequest(cache: ["blocks.1.hook_resid_post"], interventions: [tripwire], computeLogits: false))
        #expect(partial.logits == nil)
        #expect(partial.cache.hooks == ["blocks.1.hook_resid_post"])
        #expect(partial.cache["blocks.1.hook_resid_post"] == full.cache["blocks.1.hook_resid_post"])
    }
}
