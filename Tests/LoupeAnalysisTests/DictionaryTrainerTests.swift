import Foundation
import LoupeCore
import Testing
@testable import LoupeAnalysis

/// Synthetic activations: sparse non-negative combinations of `atoms` random unit directions, plus
/// a constant offset and a little noise (`[rows, inputs]`).
func sparseSuperposition(rows: Int, inputs: Int, atoms: Int, activePerRow: Int, seed: UInt64) throws -> Tensor {
    var rng = SeededRandom(seed: seed)
    var directions = [Float](repeating: 0, count: atoms * inputs)
    for atom in 0..<atoms {
        var norm: Float = 0
        for i in 0..<inputs {
            let value = rng.nextNormal()
            directions[atom * inputs + i] = value
            norm += value * value
        }
        for i in 0..<inputs { directions[atom * inputs + i] /= norm.squareRoot() }
    }
    let offset = (0..<inputs).map { _ in 0.5 * rng.nextNormal() }
    var values = [Float](repeating: 0, count: rows * inputs)
    for row in 0..<rows {
        for i in 0..<inputs { values[row * inputs + i] = offset[i] + 0.01 * rng.nextNormal() }
        for _ in 0..<activePerRow {
            let atom = rng.nextInt(below: atoms)
            let magnitude = 1 + 2 * rng.nextUniform()
            for i in 0..<inputs { values[row * inputs + i] += magnitude * directions[atom * inputs + i] }
        }
    }
    return try Tensor(shape: [rows, inputs], scalars: values)
}

extension Tensor {
    /// The same shape holding `values`.
    func with(_ values: [Float]) throws -> Tensor { try Tensor(shape: shape, scalars: values) }
}

@Suite("Dictionary: TopK trainer")
struct DictionaryTrainerTests {
    /// Random parameters for gradient checks.
    private func randomParameters(inputs: Int, features: Int, seed: UInt64) -> TopKParameters {
        var rng = SeededRandom(seed: seed)
        var p = TopKParameters.zeros(inputs: inputs, features: features)
        for i in 0..<p.encoderWeight.count { p.encoderWeight.scalars[i] = 0.5 * rng.nextNormal() }
        for i in 0..<p.encoderBias.count { p.encoderBias.scalars[i] = 0.3 * rng.nextNormal() }
        for i in 0..<p.decoderWeight.count { p.decoderWeight.scalars[i] = 0.5 * rng.nextNormal() }
        for i in 0..<p.decoderBias.count { p.decoderBias.scalars[i] = 0.3 * rng.nextNormal() }
        return p
    }

    /// Smallest gap, over rows, between the k-th and (k+1)-th pre-activation, and between any
    /// selected pre-activation and 0 (where the loss is not smooth).
    private func selectionMargin(_ p: TopKParameters, _ x: Tensor, k: Int, dead: [Bool]?, auxK: Int) throws -> Float {
        let pre = try subtractingRows(x, p.decoderBias).matmul(p.encoderWeight, bias: p.encoderBias)
        let features = p.width
        var margin = Float.infinity
        for row in 0..<x.shape[0] {
            let values = Array(pre.scalars[(row * features)..<((row + 1) * features)])
            let sorted = values.sorted(by: >)
            margin = min(margin, sorted[k - 1] - sorted[k])
            for value in sorted.prefix(k) { margin = min(margin, abs(value)) }
            if let dead {
                let deadSorted = zip(values, dead).filter { $0.1 }.map(\.0).sorted(by: >)
                let chosen = min(auxK, deadSorted.count)
                if chosen < deadSorted.count { margin = min(margin, deadSorted[chosen - 1] - deadSorted[chosen]) }
            }
        }
        return margin
    }

    private func checkGradients(dead: [Bool]?) throws {
        let (inputs, features, k, auxK) = (6, 16, 3, 3)
        let p = randomParameters(inputs: inputs, features: features, seed: 3)
        let x = try sparseSuperposition(rows: 5, inputs: inputs, atoms: 10, activePerRow: 2, seed: 4)
        let epsilon: Float = 1e-3
        #expect(try selectionMargin(p, x, k: k, dead: dead, auxK: auxK) > 0.01)
        let coefficient: Float = dead == nil ? 0 : 0.5
        let analytic = try TopKTrainer.lossAndGradients(
            parameters: p, batch: x, k: k, deadMask: dead, auxK: auxK, auxCoefficient: coefficient)
        if dead != nil { #expect(analytic.auxiliaryLoss > 0) }
        // The AuxK target x − x̂ is a constant of the gradient: hold it at its value for `p`.
        let dictionary = try SparseDictionary(
            architecture: .topk, hookName: "h", encoderWeight: p.encoderWeight, encoderBias: p.encoderBias,
            decoderWeight: p.decoderWeight, decoderBias: p.decoderBias, k: k)
        let residual = try x.with(zip(x.scalars, try dictionary.reconstruct(x).scalars).map { $0 - $1 })
        func loss(_ q: TopKParameters) throws -> Double {
            try TopKTrainer.lossAndGradients(
                parameters: q, batch: x, k: k, deadMask: dead, auxK: auxK, auxCoefficient: coefficient, residual: residual).loss
        }
        #expect(abs(try loss(p) - analytic.loss) < 1e-9 * max(1, analytic.loss))
        let paths: [(String, WritableKeyPath<TopKParameters, Tensor>)] = [
            ("W_enc", \.encoderWeight), ("b_enc", \.encoderBias), ("W_dec", \.decoderWeight), ("b_dec", \.decoderBias),
        ]
        for (name, path) in paths {
            let gradient = analytic.gradients[keyPath: path]
            #expect(gradient.shape == p[keyPath: path].shape)
            for index in 0..<gradient.count {
                var plus = p
                plus[keyPath: path].scalars[index] += epsilon
                var minus = p
                minus[keyPath: path].scalars[index] -= epsilon
                let numeric = (try loss(plus) - loss(minus)) / Double(2 * epsilon)
                let value = Double(gradient.scalars[index])
                #expect(abs(numeric - value) <= 2e-3 + 1e-2 * abs(value), "\(name)[\(index)]: analytic \(value), numeric \(numeric)")
            }
        }
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        try checkGradients(dead: nil)
    }

    @Test func auxKGradientsMatchFiniteDifferences() throws {
        var dead = [Bool](repeating: false, count: 16)
        for j in [1, 4, 6, 9, 12, 15] { dead[j] = true }
        try checkGradients(dead: dead)
    }

    @Test func trainingLowersTheErrorAndKeepsDecoderRowsUnitNorm() throws {
        let rows = try sparseSuperposition(rows: 6000, inputs: 16, atoms: 40, activePerRow: 3, seed: 11)
        var settings = TopKTrainingSettings()
        settings.width = 64
        settings.k = 4
        settings.batchSize = 200
        settings.epochs = 10
        settings.learningRate = 1e-2
        settings.deadAfterTokens = 2000
        var rng = SeededRandom(seed: 5)
        var trainer = try TopKTrainer(hookName: "blocks.0.hook_resid_post", rows: rows, settings: settings, rng: &rng)
        let before = try DictionaryEvaluation.statistics(of: try trainer.dictionary(), rows: rows)
        let report = try trainer.train(rows: rows, rng: &rng)
        #expect(report.steps.count == 300)
        #expect(report.tokens == 60000)
        let after = try DictionaryEvaluation.statistics(of: try trainer.dictionary(), rows: rows)
        #expect(after.meanSquaredError < before.meanSquaredError / 4)
        #expect(after.fractionOfVarianceExplained > 0.85)
        #expect(after.meanL0 <= 4 && after.meanL0 > 3)
        #expect(report.steps.last!.meanSquaredError < report.steps.first!.meanSquaredError / 4)
        for norm in try trainer.dictionary().decoderRowNorms { #expect(abs(norm - 1) < 1e-4) }
        #expect(report.steps.allSatisfy { $0.deadFraction >= 0 && $0.deadFraction <= 1 })
        #expect(report.deadFraction == trainer.deadFraction)
        // The trained dictionary is an SAELens TopK dictionary that survives a save.
        let directory = try DictionaryFixtures.temporaryDirectory("trained")
        defer { try? FileManager.default.removeItem(at: directory) }
        try trainer.dictionary().save(to: directory)
        let loaded = try SparseDictionary.load(directory: directory)
        #expect(loaded.architecture == .topk && loaded.k == 4 && loaded.normalization == .none)
        let one = try rows.slice(0).reshaped([1, 16])
        #expect(try loaded.reconstruct(one).maxAbsDifference(try trainer.dictionary().reconstruct(one)) < 1e-4)
    }

    @Test func trainingIsDeterministicForASeed() throws {
        let rows = try sparseSuperposition(rows: 1200, inputs: 8, atoms: 12, activePerRow: 2, seed: 2)
        var settings = TopKTrainingSettings()
        settings.width = 24
        settings.k = 3
        settings.batchSize = 100
        settings.epochs = 2
        func run(_ seed: UInt64) throws -> TopKParameters {
            var rng = SeededRandom(seed: seed)
            var trainer = try TopKTrainer(hookName: "h", rows: rows, settings: settings, rng: &rng)
            try trainer.train(rows: rows, rng: &rng)
            return trainer.parameters
        }
        let first = try run(9)
        #expect(try run(9) == first)
        #expect(try run(10) != first)
    }

    @Test func deadLatentsAreTrackedAndRevivedByAuxK() throws {
        let rows = try sparseSuperposition(rows: 4000, inputs: 8, atoms: 16, activePerRow: 2, seed: 21)
        var settings = TopKTrainingSettings()
        settings.width = 48
        settings.k = 2
        settings.batchSize = 100
        settings.epochs = 1
        settings.deadAfterTokens = 300
        settings.learningRate = 3e-3
        var rng = SeededRandom(seed: 1)
        var trainer = try TopKTrainer(hookName: "h", rows: rows, settings: settings, rng: &rng)
        // Push a third of the latents far below zero so they cannot fire.
        var parameters = trainer.parameters
        for j in stride(from: 0, to: 48, by: 3) { parameters.encoderBias.scalars[j] = -100 }
        trainer.parameters = parameters
        var sawDead = false
        var auxLosses: [Double] = []
        try trainer.train(rows: rows, rng: &rng) { report in
            if report.deadFraction > 0 { sawDead = true }
            auxLosses.append(report.auxiliaryLoss)
        }
        #expect(sawDead)
        #expect(auxLosses.prefix(3).allSatisfy { $0 == 0 })
        #expect(auxLosses.contains { $0 > 0 })
        #expect(trainer.tokensSinceFired.count == 48)
    }

    @Test func settingsAreValidated() throws {
        let rows = Tensor(shape: [10, 4], repeating: 1)
        var rng = SeededRandom(seed: 1)
        var settings = TopKTrainingSettings()
        settings.width = 8
        settings.k = 9
        #expect(throws: DictionaryError.invalidArgument(name: "k", reason: "must be between 1 and width = 8, got 9")) {
            try TopKTrainer(hookName: "h", rows: rows, settings: settings, rng: &rng)
        }
        settings.k = 2
        #expect(throws: DictionaryError.self) {
            try TopKTrainer(hookName: "h", rows: Tensor(shape: [0, 4]), settings: settings, rng: &rng)
        }
        var trainer = try TopKTrainer(hookName: "h", rows: rows, settings: settings, rng: &rng)
        #expect(throws: DictionaryError.inputWidth(source: "training rows", expected: 4, found: [10, 5])) {
            try trainer.train(rows: Tensor(shape: [10, 5]), rng: &rng)
        }
    }

    @Test func geometricMedianResistsOutliers() {
        var values: [Float] = []
        for i in 0..<9 { values += [Float(i % 3) - 1, Float(i / 3) - 1] }
        values += [1000, 1000]
        let median = TopKTrainer.geometricMedian(values, columns: 2)
        #expect(abs(median[0]) < 0.2 && abs(median[1]) < 0.2)
    }

    @Test func learningRateDecaysAtTheEnd() throws {
        var settings = TopKTrainingSettings()
        settings.width = 8
        settings.k = 2
        settings.learningRate = 1
        settings.decayFraction = 0.25
        var rng = SeededRandom(seed: 1)
        let trainer = try TopKTrainer(hookName: "h", rows: Tensor(shape: [4, 4], repeating: 1), settings: settings, rng: &rng)
        #expect(trainer.learningRate(atStep: 0, totalSteps: 100) == 1)
        #expect(trainer.learningRate(atStep: 75, totalSteps: 100) == 1)
        #expect(trainer.learningRate(atStep: 80, totalSteps: 100) == 0.8)
        #expect(trainer.learningRate(atStep: 99, totalSteps: 100) == 0.04)
    }
}
