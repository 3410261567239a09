import Foundation
import LoupeAnalysis
import LoupeCore
import Testing

@Suite("Neighbour distance minimisation")
struct NDMTrainerTests {
    static let plantedSettings = NDMSettings(
        blockSize: 2, threshold: 0.04, steps: 3000, mergeEvery: 300, batchSize: 128, bufferSize: 1024, learningRate: 0.01, seed: 3)

    @Test("recovers planted independent subspaces from a random rotation, merging the halves of each variable")
    func recoversPlantedSubspaces() throws {
        let planted = PlantedSubspaces(sizes: [4, 4, 4], rows: 4096, seed: 11)
        var trainer = try NDMTrainer(site: "planted", activations: planted.activations, settings: Self.plantedSettings)
        trainer.train()
        let partition = trainer.partition
        #expect(partition.sizes == [4, 4, 4])
        var matched = Set<Int>()
        for p in planted.sizes.indices {
            let fractions = partition.blocks.map { planted.captured(block: p, by: $0, of: trainer.rotation) }
            let best = fractions.indices.max { fractions[$0] < fractions[$1] }!
            #expect(fractions[best] >= 0.9, "planted block \(p): the best learned block captures \(fractions[best]) of it")
            matched.insert(best)
        }
        #expect(matched.count == planted.sizes.count, "each planted block matched by its own learned block")
        // Merging follows the threshold: three rounds merge one pair above it, the last merges nothing.
        #expect(trainer.converged)
        #expect(trainer.rounds.map { $0.merges.count } == [1, 1, 1, 0])
        for round in trainer.rounds {
            for merge in round.merges { #expect(merge.normalised > Self.plantedSettings.threshold) }
        }
        #expect(trainer.rounds.last!.largestNormalised <= Self.plantedSettings.threshold)
        #expect(trainer.step == 1200)
    }

    @Test("a threshold above every pair's information merges nothing and ends training at the first round")
    func highThresholdMergesNothing() throws {
        let planted = PlantedSubspaces(sizes: [4, 4], rows: 2048, seed: 5)
        var settings = Self.plantedSettings
        settings.threshold = 10
        settings.mergeEvery = 50
        var trainer = try NDMTrainer(site: "planted", activations: planted.activations, settings: settings)
        trainer.train()
        #expect(trainer.step == 50)
        #expect(trainer.rounds.count == 1 && trainer.rounds[0].merges.isEmpty)
        #expect(trainer.partition.sizes == [2, 2, 2, 2])
    }

    @Test("a zero threshold merges the most informative disjoint pairs, at most the round's limit")
    func zeroThresholdMergesUpToTheLimit() throws {
        let planted = PlantedSubspaces(sizes: [4, 4, 4, 4], rows: 2048, seed: 6)
        var settings = Self.plantedSettings
        settings.threshold = 0
        settings.mergeEvery = 20
        settings.mergesPerRound = 2
        var trainer = try NDMTrainer(site: "planted", activations: planted.activations, settings: settings)
        for _ in 0..<20 { trainer.trainStep() }
        var copy = trainer
        let information = copy.mutualInformation()
        let round = trainer.mergeRound()
        let positive = (0..<8).flatMap { a in ((a + 1)..<8).filter { information[a][$0] > 0 }.map { (a, $0) } }
        #expect(round.merges.count == min(2, positive.count))
        let firstMerge = try #require(round.merges.first)
        let largest = positive.map { information[$0.0][$0.1] / 4 }.max()!
        #expect(abs(firstMerge.normalised - largest) < 1e-9)
        #expect(Set([round.merges[0].first, round.merges[0].second]).isDisjoint(with: [round.merges[1].first, round.merges[1].second]))
        #expect(round.sizesAfter == [4, 4, 2, 2, 2, 2])
        #expect(OrthogonalMatrix.deviation(trainer.rotation) < 1e-5)
    }

    @Test("R stays orthogonal to 1e-5 at every step, and the loss decreases")
    func staysOrthogonalAndLearns() throws {
        let planted = PlantedSubspaces(sizes: [4, 4, 4], rows: 2048, seed: 9)
        var settings = Self.plantedSettings
        settings.threshold = 10
        settings.mergeEvery = 1000
        settings.blockSize = 4
        var trainer = try NDMTrainer(site: "planted", activations: planted.activations, settings: settings)
        var worst = 0.0
        for _ in 0..<300 {
            trainer.trainStep()
            worst = max(worst, OrthogonalMatrix.deviation(trainer.rotation))
        }
        #expect(worst < 1e-5)
        let losses = trainer.log.map(\.loss)
        let early = losses.prefix(30).reduce(0, +) / 30
        let late = losses.suffix(30).reduce(0, +) / 30
        #expect(late < 0.7 * early, "mean loss of the first 30 steps \(early), of the last 30 \(late)")
    }

    @Test("the gradient matches finite differences of the loss")
    func gradientMatchesFiniteDifferences() throws {
        var rng = SeededRandom(seed: 4)
        let d = 6
        let batch = try Tensor(shape: [16, d], scalars: (0..<(16 * d)).map { _ in rng.nextNormal() })
        let buffer = try Tensor(shape: [64, d], scalars: (0..<(64 * d)).map { _ in rng.nextNormal() })
        let rotation = OrthogonalMatrix.random(size: d, rng: &rng)
        let ranges = [0..<2, 2..<4, 4..<6]
        let (_, gradient) = NDMTrainer.lossAndGradient(batch: batch, buffer: buffer, rotation: rotation, ranges: ranges)
        let step: Float = 1e-3
        for index in [0, 7, 15, 22, 35] {
            var plus = rotation, minus = rotation
            plus.scalars[index] += step
            minus.scalars[index] -= step
            let up = NDMTrainer.lossAndGradient(batch: batch, buffer: buffer, rotation: plus, ranges: ranges).loss
            let down = NDMTrainer.lossAndGradient(batch: batch, buffer: buffer, rotation: minus, ranges: ranges).loss
            let numeric = (up - down) / Double(2 * step)
            #expect(abs(numeric - Double(gradient.scalars[index])) < 2e-3, "entry \(index): numeric \(numeric), analytic \(gradient.scalars[index])")
        }
    }

    @Test("settings out of range are refused with the setting named")
    func refusesBadSettings() throws {
        let planted = PlantedSubspaces(sizes: [2, 2], rows: 512, seed: 1)
        var settings = Self.plantedSettings
        settings.blockSize = 9
        #expect(throws: SubspaceError.invalidInput(reason: "block_size is 9; it must be in 1...4 (the site's width)")) {
            try NDMTrainer(site: "s", activations: planted.activations, settings: settings)
        }
        settings = Self.plantedSettings
        settings.batchSize = 600
        #expect(throws: SubspaceError.self) { try NDMTrainer(site: "s", activations: planted.activations, settings: settings) }
    }
}
