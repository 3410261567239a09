import Foundation
import LoupeCore
import LoupeModel
import Testing

/// The backward pass against PyTorch autograd and against finite differences.
@Suite struct GradientTests {
    /// Largest |a − b| relative to the largest |b| of the tensor (so tiny entries do not dominate).
    func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.scalars.map { abs($0) }.max() ?? 0
        return a.maxAbsDifference(b) / max(scale, 1e-12)
    }

    @Test func lossParameterAndHookGradientsMatchPyTorch() throws {
        let model = try GPT2Model.load(directory: Fixtures.url("gpt2-prefixed"))
        let reference = try SafetensorsFile(url: Fixtures.url("gradients/reference.safetensors"))
        let flatInputs = try reference.integers("inputs"), flatTargets = try reference.integers("targets")
        let inputs = [Array(flatInputs[0..<16]), Array(flatInputs[16..<32])]
        let targets = [Array(flatTargets[0..<16]), Array(flatTargets[16..<32])]
        let hookNames = reference.names.filter { $0.hasPrefix("hookgrad/") }.map { String($0.dropFirst("hookgrad/".count)) }
        #expect(hookNames.count == 5)
        let (loss, gradients) = try model.lossAndGradients(inputs: inputs, targets: targets, hooks: Set(hookNames))
        #expect(abs(loss - (try reference.tensor("loss").scalars[0])) < 1e-4)
        var worst: (Float, String) = (0, "")
        for (name, gradient) in gradients.parameters.named {
            let expected = try reference.tensor("grad/" + name)
            #expect(gradient.shape == expected.shape, "\(name)")
            let difference = relativeDifference(gradient, expected)
            if difference > worst.0 { worst = (difference, name) }
        }
        for name in hookNames {
            let expected = try reference.tensor("hookgrad/" + name)
            let found = try #require(gradients.hooks[name])
            let difference = relativeDifference(found, expected)
            if difference > worst.0 { worst = (difference, name) }
        }
        // Float32 throughout on both sides; 1e-4 of each tensor's largest entry.
        #expect(worst.0 <= 1e-4, "largest relative difference \(worst.0) at \(worst.1)")
    }

    @Test func metricGradientsAtHooksMatchPyTorch() throws {
        let model = try GPT2Model.load(directory: Fixtures.url("gpt2-prefixed"))
        let reference = try SafetensorsFile(url: Fixtures.url("gradients/reference.safetensors"))
        let flat = try reference.integers("inputs")
        let inputs = [Array(flat[0..<16]), Array(flat[16..<32])]
        let result = try model.forward(inputs, ForwardRequest(recordTape: true))
        let logits = result.logits!
        let v = model.config.vocabularySize
        let metric = logits.scalars[15 * v + 7] - logits.scalars[15 * v + 11]
        #expect(abs(metric - (try reference.tensor("metric").scalars[0])) < 1e-4)
        var dLogits = Tensor(shape: logits.shape)
        dLogits.scalars[15 * v + 7] = 1
        dLogits.scalars[15 * v + 11] = -1
        let hooks = ["blocks.1.hook_resid_pre", "blocks.0.attn.hook_z"]
        let gradients = try model.backward(tape: result.tape!, logitsGradient: dLogits, hooks: Set(hooks))
        for name in hooks {
            let expected = try reference.tensor("metricgrad/" + name)
            #expect(relativeDifference(gradients.hooks[name]!, expected) <= 1e-4, "\(name)")
        }
    }

    @Test func lossAndGradientsRejectTargetsOutsideTheVocabularyOrOfAnotherShape() throws {
        let model = Self.tinyModel(activation: .geluTanh)
        let inputs = [[1, 4, 2], [7, 7, 0]]
        #expect(throws: ModelError.tokenOutOfRange(id: 11, vocabularySize: 11)) {
            try model.lossAndGradients(inputs: inputs, targets: [[4, 2, 9], [7, 11, 5]])
        }
        #expect(throws: ModelError.tokenOutOfRange(id: -2, vocabularySize: 11)) {
            try model.lossAndGradients(inputs: inputs, targets: [[4, 2, 9], [7, -2, 5]])
        }
        #expect(throws: ModelError.invalidInput(reason: "targets must have the shape of the inputs")) {
            try model.lossAndGradients(inputs: inputs, targets: [[4, 2, 9], [7, 0]])
        }
    }

    @Test func backwardRejectsAMisshapenLogitsGradientOrAnotherModelsTape() throws {
        let model = Self.tinyModel(activation: .geluTanh)
        let tape = try #require(try model.forward([[1, 4, 2]], ForwardRequest(recordTape: true)).tape)
        #expect(throws: ModelError.invalidInput(reason: "the logits gradient has shape [1, 3, 10], expected [1, 3, 11]")) {
            try model.backward(tape: tape, logitsGradient: Tensor(shape: [1, 3, 10]))
        }
        #expect(throws: ModelError.invalidInput(reason: "the logits gradient has shape [3, 11], expected [1, 3, 11]")) {
            try model.backward(tape: tape, logitsGradient: Tensor(shape: [3, 11]))
        }
        let other = Self.tinyModel(activation: .relu)
        #expect(throws: ModelError.invalidInput(reason: "the tape was recorded by a model of another configuration")) {
            try other.backward(tape: tape, logitsGradient: Tensor(shape: [1, 3, 11]))
        }
        #expect(throws: Never.self) { try model.backward(tape: tape, logitsGradient: Tensor(shape: [1, 3, 11])) }
    }

    /// A tiny model with random weights large enough that every path matters.
    static func tinyModel(activation: Activation, untied: Bool = false) -> GPT2Model {
        let config = GPT2Config(
            vocabularySize: 11, contextLength: 8, width: 8, heads: 2, layers: 2, mlpWidth: 12,
            activation: activation, scaleAttentionByInverseLayerIndex: activation == .geluErf, tiedUnembedding: !untied)
        var weights = GPT2Weights.random(config: config, seed: 5)
        var rng = SeededRandom(seed: 9)
        var named: [String: Tensor] = [:]
        for (name, tensor) in weights.named {
            var t = tensor
            for i in 0..<t.count { t.scalars[i] = (name.contains("ln_") ? 1 : 0) + 0.4 * rng.nextNormal() }
            named[name] = t
        }
        weights = GPT2Weights.withNamed(named, like: weights)
        return GPT2Model(config: config, weights: weights)
    }

    @Test(arguments: [(Activation.geluTanh, false), (.geluErf, true), (.relu, false), (.silu, false)])
    func everyParameterGradientMatchesFiniteDifferences(activation: Activation, untied: Bool) throws {
        let model = Self.tinyModel(activation: activation, untied: untied)
        let inputs = [[1, 4, 2, 9, 3], [7, 7, 0, 5, 10]]
        let targets = [[4, 2, 9, 3, 6], [7, 0, 5, 10, -1]]
        let (_, gradients) = try model.lossAndGradients(inputs: inputs, targets: targets)
        var rng = SeededRandom(seed: 2)
        func loss(_ m: GPT2Model) throws -> Double {
            let logits = try m.forward(inputs).logits!
            return Double(CrossEntropy.lossAndGradient(logits: logits, targets: targets.flatMap { $0 }).loss)
        }
        for (name, gradient) in gradients.parameters.named {
            for _ in 0..<3 {
                // wpe rows past the sequence length have zero gradient; probe rows in use.
                let index = name == "wpe.weight" ? rng.nextInt(below: 5 * 8) : rng.nextInt(below: gradient.count)
                let step: Float = 1e-2
                var plus = model, minus = model
                plus.weights = GPT2Weights.withNamed([name: perturbed(model.weights, name, index, step)], like: model.weights)
                minus.weights = GPT2Weights.withNamed([name: perturbed(model.weights, name, index, -step)], like: model.weights)
                let numeric = (try loss(plus) - loss(minus)) / Double(2 * step)
                let analytic = Double(gradient.scalars[index])
                #expect(abs(numeric - analytic) <= 2e-3 + 2e-2 * abs(analytic), "\(activation) \(name)[\(index)]: \(analytic) vs \(numeric)")
            }
        }
    }

    func perturbed(_ weights: GPT2Weights, _ name: String, _ index: Int, _ step: Float) -> Tensor {
        var tensor = weights.named.first { $0.0 == name }!.1
        tensor.scalars[index] += step
        return tensor
    }

    @Test func hookGradientsMatchFiniteDifferencesOfAnAddedPerturbation() throws {
        let model = Self.tinyModel(activation: .geluTanh)
        let inputs = [[1, 4, 2, 9, 3]]
        let targets = [[4, 2, 9, 3, 6]]
        let hooks = model.hookNames
        let (_, gradients) = try model.lossAndGradients(inputs: inputs, targets: targets, hooks: Set(hooks))
        let shapes = try model.forward(inputs, ForwardRequest(cache: Set(hooks))).cache
        var rng = SeededRandom(seed: 4)
        for hook in hooks {
            let gradient = try #require(gradients.hooks[hook], "\(hook)")
            #expect(gradient.shape == shapes[hook]!.shape, "\(hook)")
            for _ in 0..<2 {
                var index = rng.nextInt(below: gradient.count)
                if hook.hasSuffix("hook_attn_scores") || hook.hasSuffix("hook_pattern") {
                    // Perturb only visible (causal) entries: row r, column ≤ r.
                    let t = 5
                    let square = index / (t * t), row = (index / t) % t
                    index = square * t * t + row * t + rng.nextInt(below: row + 1)
                }
                let step: Float = 1e-2
                func loss(_ delta: Float) throws -> Double {
                    var direction = Tensor(shape: gradient.shape)
                    direction.scalars[index] = delta
                    let logits = try model.forward(inputs, ForwardRequest(
                        interventions: [Intervention(hook: hook, action: .add(direction))])).logits!
                    return Double(CrossEntropy.lossAndGradient(logits: logits, targets: targets.flatMap { $0 }).loss)
                }
                let numeric = (try loss(step) - loss(-step)) / Double(2 * step)
                let analytic = Double(gradient.scalars[index])
                #expect(abs(numeric - analytic) <= 2e-3 + 2e-2 * abs(analytic), "\(hook)[\(index)]: \(analytic) vs \(numeric)")
            }
        }
    }
}
