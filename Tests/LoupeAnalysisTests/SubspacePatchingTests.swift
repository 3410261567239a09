import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeToyWorld
import Testing

@Suite("Subspace patching and baselines")
struct SubspacePatchingTests {
    static func pairs(_ count: Int) -> [TaskExample] {
        var rng = SeededRandom(seed: 5)
        return ToyWorld().task(named: "ioi")!.examples(count: count, rng: &rng)
    }

    @Test("patching the whole space closes the whole gap, under any rotation; a rotation of another width is refused")
    func wholeSpaceHasEffectOne() throws {
        let model = try CircuitTruthTests.demoModel()
        let site = "blocks.1.hook_resid_post"
        let patching = try SubspacePatching(model: model, site: site, pairs: Self.pairs(6))
        #expect(patching.width == 128 && patching.cleanMetric > patching.corruptedMetric)
        var rng = SeededRandom(seed: 1)
        let random = OrthogonalMatrix.random(size: 128, rng: &rng)
        let whole = SubspacePartition(site: site, sizes: [128])
        for rotation in [OrthogonalMatrix.identity(size: 128), random] {
            let effects = try patching.effects(rotation: rotation, partition: whole)
            #expect(abs(effects[0] - 1) < 1e-3, "\(effects)")
        }
        // Two complementary halves give one effect each.
        let halves = try patching.effects(rotation: random, partition: SubspacePartition(site: site, sizes: [64, 64]))
        #expect(halves.count == 2 && halves.allSatisfy { $0.isFinite })
        #expect(throws: SubspaceError.self) {
            try patching.effects(rotation: OrthogonalMatrix.identity(size: 64), partition: SubspacePartition(site: site, sizes: [64]))
        }
    }

    @Test("the Gini coefficient: 0 for equal effects, (n − 1)/n for one, on magnitudes")
    func gini() {
        #expect(SubspacePatching.gini([0.2, 0.2, 0.2, 0.2]) == 0)
        #expect(abs(SubspacePatching.gini([0, 0, 1, 0]) - 0.75) < 1e-12)
        #expect(abs(SubspacePatching.gini([0, 0, -1, 0]) - 0.75) < 1e-12)
        #expect(SubspacePatching.gini([0, 0]) == 0 && SubspacePatching.gini([]) == 0)
        // Σᵢ (2i − n − 1) xᵢ / (n Σ x) with x = 1, 2, 3 sorted: (−2 + 0 + 6) / 18.
        #expect(abs(SubspacePatching.gini([3, 1, 2]) - 4.0 / 18) < 1e-12)
    }

    @Test("baselines are orthogonal; PCA's columns are principal directions, largest variance first")
    func baselines() throws {
        var rng = SeededRandom(seed: 8)
        let (n, d) = (400, 6)
        let scales: [Float] = [0.5, 3, 1, 0.1, 2, 0.2]
        let data = try Tensor(shape: [n, d], scalars: (0..<(n * d)).map { scales[$0 % d] * rng.nextNormal() + 4 })
        for baseline in SubspaceBaseline.allCases {
            #expect(OrthogonalMatrix.deviation(baseline.rotation(activations: data, seed: 3)) < 1e-5, "\(baseline)")
        }
        #expect(SubspaceBaseline.random.rotation(activations: data, seed: 3) == SubspaceBaseline.random.rotation(activations: data, seed: 3))
        let projected = try data.matmul(SubspaceBaseline.pca.rotation(activations: data, seed: 0))
        let variances = (0..<d).map { c -> Double in
            let values = (0..<n).map { Double(projected.scalars[$0 * d + c]) }
            let mean = values.reduce(0, +) / Double(n)
            return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        }
        #expect(zip(variances, variances.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(abs(variances[0] - 9) < 1.5 && abs(variances[1] - 4) < 1)
    }
}
