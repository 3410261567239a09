import Foundation
import LoupeCore
import LoupeModel
import Testing

/// The optimiser, the schedule and checkpoint/resume.
@Suite struct TrainerTests {
    static let config = GPT2Config(vocabularySize: 13, contextLength: 8, width: 8, heads: 2, layers: 2, mlpWidth: 16)

    static func batch(step: Int) -> (inputs: [[Int]], targets: [[Int]]) {
        var rng = SeededRandom(seed: UInt64(100 + step))
        let sequences = (0..<3).map { _ in (0..<7).map { _ in rng.nextInt(below: 13) } }
        return (sequences.map { Array($0.dropLast()) }, sequences.map { Array($0.dropFirst()) })
    }

    static var settings: OptimizerSettings {
        var settings = OptimizerSettings()
        settings.totalSteps = 20
        settings.warmupSteps = 3
        settings.learningRate = 1e-2
        return settings
    }

    @Test func adamWStepFollowsItsFormula() {
        var theta = Tensor(shape: [3], repeating: 0.5)
        let gradient = try! Tensor(shape: [3], scalars: [0.1, -2, 0])
        var m = Tensor(shape: [3]), v = Tensor(shape: [3])
        let step = AdamWStep(learningRate: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, step: 1)
        theta.adamWUpdate(gradient: gradient, m: &m, v: &v, step)
        for i in 0..<3 {
            let g = Double(gradient.scalars[i])
            let mHat = 0.1 * g / 0.1, vHat = 0.05 * g * g / 0.05
            let expected = 0.5 - 0.01 * (mHat / (vHat.squareRoot() + 1e-8) + 0.1 * 0.5)
            #expect(abs(Double(theta.scalars[i]) - expected) < 1e-6)
            #expect(abs(Double(m.scalars[i]) - 0.1 * g) < 1e-7)
        }
    }

    @Test func learningRateWarmsUpThenDecaysToTheFinalFraction() {
        var settings = OptimizerSettings()
        settings.learningRate = 1
        settings.warmupSteps = 10
        settings.totalSteps = 110
        settings.finalFraction = 0.1
        #expect(settings.learningRate(atStep: 0) == 0.1)
        #expect(settings.learningRate(atStep: 9) == 1)
        #expect(abs(settings.learningRate(atStep: 60) - 0.55) < 1e-6)
        #expect(abs(settings.learningRate(atStep: 110) - 0.1) < 1e-6)
        let rates = (10..<110).map { settings.learningRate(atStep: $0) }
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test func trainingLowersTheLossOnARepeatedBatch() throws {
        var trainer = Trainer(model: GPT2Model(config: Self.config, weights: .random(config: Self.config, seed: 1)), settings: Self.settings)
        let (inputs, targets) = Self.batch(step: 0)
        let first = try trainer.step(inputs: inputs, targets: targets).loss
        for _ in 0..<19 { try trainer.step(inputs: inputs, targets: targets) }
        let last = try trainer.model.lossAndGradients(inputs: inputs, targets: targets).loss
        #expect(last < first * 0.8, "loss \(first) → \(last)")
        #expect(trainer.log.map(\.step) == Array(1...20))
    }

    @Test func gradientsAreClippedToTheGlobalNorm() throws {
        var settings = Self.settings
        settings.gradientClip = 1e-3
        var trainer = Trainer(model: GPT2Model(config: Self.config, weights: .random(config: Self.config, seed: 1)), settings: settings)
        let (inputs, targets) = Self.batch(step: 0)
        let record = try trainer.step(inputs: inputs, targets: targets)
        #expect(record.gradientNorm > 1e-3)
    }

    @Test func aResumedRunEqualsAnUninterruptedOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-trainer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let start = GPT2Model(config: Self.config, weights: .random(config: Self.config, seed: 3))
        var straight = Trainer(model: start, settings: Self.settings)
        for step in 0..<6 { try straight.step(inputs: Self.batch(step: step).inputs, targets: Self.batch(step: step).targets) }

        var first = Trainer(model: start, settings: Self.settings)
        for step in 0..<3 { try first.step(inputs: Self.batch(step: step).inputs, targets: Self.batch(step: step).targets) }
        try first.saveCheckpoint(to: directory)
        var resumed = try #require(try Trainer.resume(from: directory, config: Self.config, settings: Self.settings))
        #expect(resumed.step == 3)
        for step in 3..<6 { try resumed.step(inputs: Self.batch(step: step).inputs, targets: Self.batch(step: step).targets) }

        for ((name, a), (_, b)) in zip(straight.model.weights.named, resumed.model.weights.named) {
            #expect(a == b, "\(name)")
        }
        #expect(straight.log.map(\.loss) == resumed.log.map(\.loss))
    }

    /// Training is deterministic: two runs of a few hundred steps (a 2-layer, 64-wide model with the
    /// toy world's vocabulary, on counting sequences) from the same weights on the same batches give
    /// bit-identical weights and losses.
    @Test func twoRunsGiveTheSameBits() throws {
        let config = GPT2Config(vocabularySize: 311, contextLength: 32, width: 64, heads: 4, layers: 2, mlpWidth: 256)
        var settings = OptimizerSettings()
        settings.totalSteps = 200
        settings.warmupSteps = 20
        settings.learningRate = 3e-3
        func run() throws -> Trainer {
            var trainer = Trainer(model: GPT2Model(config: config, weights: .random(config: config, seed: 7)), settings: settings)
            var rng = SeededRandom(seed: 12)
            for _ in 0..<settings.totalSteps {
                let sequences = (0..<4).map { _ in
                    let (start, stride) = (rng.nextInt(below: 311), 1 + rng.nextInt(below: 3))
                    return (0..<17).map { (start + stride * $0) % 311 }
                }
                try trainer.step(inputs: sequences.map { Array($0.dropLast()) }, targets: sequences.map { Array($0.dropFirst()) })
            }
            return trainer
        }
        let (first, second) = (try run(), try run())
        #expect(first.log.last!.loss < first.log.first!.loss * 0.7, "the runs learn: \(first.log.first!.loss) → \(first.log.last!.loss)")
        #expect(first.log.map(\.loss) == second.log.map(\.loss))
        for ((name, a), (_, b)) in zip(first.model.weights.named, second.model.weights.named) {
            #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(name)")
        }
    }

    @Test func savedCheckpointsLoadAsHuggingFaceModels() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-save-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = GPT2Model(config: Self.config, weights: .random(config: Self.config, seed: 4))
        try model.save(to: directory)
        let file = try SafetensorsFile(url: directory.appendingPathComponent("model.safetensors"))
        #expect(file.names.contains("transformer.h.1.mlp.c_proj.weight"))
        let loaded = try GPT2Model.load(directory: directory)
        #expect(loaded.config == model.config)
        #expect(try loaded.forward([[1, 2, 3]]).logits == model.forward([[1, 2, 3]]).logits)
    }

    @Test func applyingGradientsOfAnotherShapeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var optimizer = AdamWOptimizer(settings: Self.settings, config: Self.config)
            var wider = Self.config
            wider.width = 16
            var weights = GPT2Weights.random(config: wider, seed: 1)
            _ = optimizer.apply(GPT2Weights.zeros(config: wider), to: &weights)
        }
        let message = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(message.contains("AdamWOptimizer.apply: weights or gradients do not have the parameter shapes"), "\(message)")
    }

    @Test func resumingIntoAnotherShapeFails() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-shape-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var trainer = Trainer(model: GPT2Model(config: Self.config, weights: .random(config: Self.config, seed: 1)), settings: Self.settings)
        try trainer.step(inputs: Self.batch(step: 0).inputs, targets: Self.batch(step: 0).targets)
        try trainer.saveCheckpoint(to: directory)
        var other = Self.config
        other.width = 16
        #expect(throws: ModelError.self) { try Trainer.resume(from: directory, config: other, settings: Self.settings) }
    }
}
