import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeAnalysis

@Suite("Dictionary: evaluation")
struct DictionaryEvaluationTests {
    /// A standard dictionary that reconstructs every input exactly: features relu(x) and relu(−x),
    /// decoded as their difference. Width 2·I.
    private func exactDictionary(hook: String, inputs: Int) throws -> SparseDictionary {
        var encoder = Tensor(shape: [inputs, 2 * inputs])
        var decoder = Tensor(shape: [2 * inputs, inputs])
        for i in 0..<inputs {
            encoder.scalars[i * 2 * inputs + i] = 1
            encoder.scalars[i * 2 * inputs + inputs + i] = -1
            decoder.scalars[i * inputs + i] = 1
            decoder.scalars[(inputs + i) * inputs + i] = -1
        }
        return try SparseDictionary(
            architecture: .standard, hookName: hook, encoderWeight: encoder, encoderBias: Tensor(shape: [2 * inputs]),
            decoderWeight: decoder, decoderBias: Tensor(shape: [inputs]), applyDecoderBiasToInput: false)
    }

    private func model() -> GPT2Model {
        let config = GPT2Config(vocabularySize: 50, contextLength: 32, width: 16, heads: 2, layers: 2)
        return GPT2Model(config: config, weights: GPT2Weights.random(config: config, seed: 3))
    }

    private func batches() -> [[[Int]]] {
        var rng = SeededRandom(seed: 4)
        return (0..<2).map { _ in (0..<3).map { _ in (0..<10).map { _ in rng.nextInt(below: 50) } } }
    }

    @Test func statisticsMatchDirectFormulas() throws {
        let dictionary = try SparseDictionary.load(directory: DictionaryFixtures.url("standard-nested"))
        let x = try DictionaryFixtures.reference("standard-nested").input
        let statistics = try DictionaryEvaluation.statistics(of: dictionary, rows: x, blockRows: 7)
        let features = try dictionary.encode(x)
        let reconstruction = try dictionary.decode(features)
        let (n, d) = (x.shape[0], x.shape[1])
        var squaredError = 0.0
        var variance = 0.0
        for i in 0..<d {
            let mean = (0..<n).reduce(0.0) { $0 + Double(x.scalars[$1 * d + i]) } / Double(n)
            for row in 0..<n {
                let value = Double(x.scalars[row * d + i])
                squaredError += pow(Double(reconstruction.scalars[row * d + i]) - value, 2)
                variance += pow(value - mean, 2)
            }
        }
        #expect(statistics.rows == n)
        // Blocks of 7 rows round differently in the matrix products than one block of 20.
        #expect(abs(statistics.meanSquaredError - squaredError / Double(n * d)) < 1e-6 * statistics.meanSquaredError)
        #expect(abs(statistics.fractionOfVarianceExplained - (1 - squaredError / variance)) < 1e-6)
        let active = features.scalars.filter { $0 > 0 }.count
        #expect(abs(statistics.meanL0 - Double(active) / Double(n)) < 1e-12)
        let never = (0..<64).filter { j in (0..<n).allSatisfy { features.scalars[$0 * 64 + j] <= 0 } }.count
        #expect(statistics.deadFraction == Double(never) / 64)
        #expect(statistics.firingCounts.reduce(0, +) == active)
    }

    @Test func exactReconstructionRecoversAllTheLoss() throws {
        let gpt2 = model()
        let dictionary = try exactDictionary(hook: "blocks.1.hook_resid_pre", inputs: 16)
        let quality = try DictionaryEvaluation.evaluate(dictionary: dictionary, model: gpt2, batches: batches())
        #expect(quality.meanSquaredError < 1e-10)
        #expect(quality.fractionOfVarianceExplained > 0.999999)
        #expect(abs(quality.reconstructedLoss - quality.cleanLoss) < 1e-5)
        #expect(quality.zeroAblatedLoss != quality.cleanLoss)
        #expect(abs(quality.lossRecovered - 1) < 1e-3)
        #expect(quality.meanL0 > 0)
    }

    @Test func lossesMatchInterventionsDoneByHand() throws {
        let gpt2 = model()
        let hook = "blocks.0.hook_resid_post"
        var rng = SeededRandom(seed: 8)
        var settings = TopKTrainingSettings()
        settings.width = 32
        settings.k = 4
        settings.batchSize = 30
        let tokens = batches()
        let cached = try gpt2.forward(tokens[0], ForwardRequest(cache: [hook]))
        let rows = try #require(cached.cache[hook]).reshaped([30, 16])
        var trainer = try TopKTrainer(hookName: hook, rows: rows, settings: settings, rng: &rng)
        try trainer.train(rows: rows, rng: &rng)
        let dictionary = try trainer.dictionary()

        let (losses, statistics) = try DictionaryEvaluation.splicedLosses(of: dictionary, model: gpt2, batches: tokens)
        var expected = [0.0, 0.0, 0.0]
        for batch in tokens {
            let clean = try gpt2.forward(batch, ForwardRequest(cache: [hook]))
            let activation = try #require(clean.cache[hook])
            let reconstruction = try dictionary.reconstruct(activation)
            let spliced = try gpt2.forward(batch, ForwardRequest(interventions: [Intervention(hook: hook, action: .replace(reconstruction))]))
            let zeroed = try gpt2.forward(batch, ForwardRequest(interventions: [Intervention(hook: hook, action: .zero)]))
            let targets = batch.flatMap { sequence in sequence.indices.map { $0 + 1 < sequence.count ? sequence[$0 + 1] : -1 } }
            for (slot, result) in [clean, spliced, zeroed].enumerated() {
                // −log softmax in Double, row by row, averaged over the 54 predictions.
                let logits = try #require(result.logits)
                let v = logits.shape[2]
                for (row, target) in targets.enumerated() where target >= 0 {
                    let values = logits.scalars[(row * v)..<((row + 1) * v)].map(Double.init)
                    let maximum = values.max()!
                    expected[slot] += (log(values.reduce(0) { $0 + exp($1 - maximum) }) + maximum - values[target]) / 54
                }
            }
        }
        #expect(losses.predictions == 2 * 3 * 9)
        #expect(abs(losses.clean - expected[0]) < 1e-5)
        #expect(abs(losses.reconstructed - expected[1]) < 1e-5)
        #expect(abs(losses.zeroAblated - expected[2]) < 1e-5)
        // The ratio divides the losses' 1e-5 agreement by |zero-ablated − clean|, which is small here.
        #expect(abs(losses.lossRecovered - (expected[2] - expected[1]) / (expected[2] - expected[0])) < 4e-5 / abs(expected[2] - expected[0]))
        #expect(statistics.rows == 60)
    }

    /// The quality measured from the sweep's own passes over an evaluation sample (ragged windows padded
    /// into batches, the last window cut, spliced and zeroed passes resumed at the hook's block) equals the
    /// quality measured window by window from the embeddings on exactly the counted tokens.
    @Test(arguments: ["blocks.1.hook_resid_pre", "blocks.1.attn.hook_z", "blocks.0.hook_resid_post"])
    func theSweepsPassesGiveTheQualityOfSeparatePasses(hook: String) throws {
        let gpt2 = model()
        var rng = SeededRandom(seed: 9)
        let windows = [12, 9, 12, 7, 11, 12, 10, 8].enumerated().map { index, length in
            CorpusWindow(document: index, start: 0, tokens: (0..<length).map { _ in rng.nextInt(below: 50) }, hasBOS: false)
        }
        let sample = EvaluationSample.spread(over: windows, tokens: 40, hooks: [hook])
        #expect(sample.windows.values.reduce(0, +) == 40)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-evaluation-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, passes) = try ActivationStore.build(
            model: gpt2, windows: windows, hooks: ["blocks.0.hook_resid_mid"], directory: directory,
            options: ActivationStoreOptions(batchTokens: 36, minimumLengthRatio: 0.5), evaluating: sample)
        #expect(passes.contains { pass in zip(pass.tokens, pass.counted).contains { $0.count > $1 } }, "some window is padded or cut")
        #expect(passes.allSatisfy { !$0.residuals.isEmpty })
        // At attn.hook_z the dictionary reads one head: two rows per position.
        let dictionary = try exactDictionary(hook: hook, inputs: hook.hasSuffix("hook_z") ? 8 : 16)
        let fromSweep = try DictionaryEvaluation.evaluate(dictionary: dictionary, model: gpt2, passes: passes)
        let separate = try DictionaryEvaluation.evaluate(
            dictionary: dictionary, model: gpt2, batches: sample.windows.keys.sorted().map { [Array(windows[$0].tokens.prefix(sample.windows[$0]!))] })
        #expect(fromSweep.tokens == separate.tokens)
        for (name, a, b) in [("clean", fromSweep.cleanLoss, separate.cleanLoss), ("spliced", fromSweep.reconstructedLoss, separate.reconstructedLoss),
                             ("zeroed", fromSweep.zeroAblatedLoss, separate.zeroAblatedLoss), ("fve", fromSweep.fractionOfVarianceExplained, separate.fractionOfVarianceExplained),
                             ("l0", fromSweep.meanL0, separate.meanL0)] {
            #expect(abs(a - b) < 1e-5, "\(name): \(a) from the sweep, \(b) separately")
        }
        #expect(fromSweep.zeroAblatedLoss != fromSweep.cleanLoss)
    }

    @Test func unknownHookIsNamed() throws {
        let dictionary = try exactDictionary(hook: "blocks.7.hook_resid_pre", inputs: 16)
        #expect(throws: DictionaryError.hook(name: "blocks.7.hook_resid_pre", reason: "the model has no such hook point")) {
            try DictionaryEvaluation.evaluate(dictionary: dictionary, model: model(), batches: batches())
        }
        let narrow = try exactDictionary(hook: "blocks.0.hook_resid_pre", inputs: 8)
        #expect(throws: DictionaryError.self) {
            try DictionaryEvaluation.evaluate(dictionary: narrow, model: model(), batches: batches())
        }
    }

    @Test func encodeFileFlattensLeadingDimensions() throws {
        let dictionary = try SparseDictionary.load(directory: DictionaryFixtures.url("topk-rescaled"))
        let reference = try DictionaryFixtures.reference("topk-rescaled")
        let directory = try DictionaryFixtures.temporaryDirectory("encode")
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("acts.safetensors")
        let output = directory.appendingPathComponent("encoded.safetensors")
        try SafetensorsWriter.write(["acts": .float32(try reference.input.reshaped([2, 10, 32])), "other": .float32(Tensor(shape: [3, 7]))], to: input)
        let summary = try dictionary.encodeFile(input: input, tensor: "acts", output: output)
        #expect(summary.rows == 20)
        #expect(summary.meanL0 == 5)
        let written = try SafetensorsFile(url: output)
        #expect(written.names == ["feature_acts", "reconstruction"])
        #expect(try written.tensor("feature_acts").maxAbsDifference(reference.features) <= 1e-4)
        #expect(try written.tensor("reconstruction").maxAbsDifference(reference.reconstruction) <= 1e-4)
        #expect(throws: DictionaryError.inputWidth(source: "\(input.path): tensor 'other'", expected: 32, found: [3, 7])) {
            try dictionary.encodeFile(input: input, tensor: "other", output: output)
        }
        #expect(throws: DictionaryError.missingTensor(path: input.path, tensor: "missing")) {
            try dictionary.encodeFile(input: input, tensor: "missing", output: output)
        }
    }
}
