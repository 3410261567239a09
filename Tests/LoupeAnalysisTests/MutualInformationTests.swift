import Foundation
import LoupeAnalysis
import LoupeCore
import Testing

@Suite("KSG mutual information")
struct MutualInformationTests {
    /// `n` points `[x₁, x₂, y]` with `x` and `y` jointly Gaussian (correlation `rho` between `x₁` and `y`)
    /// and `x₂` independent noise.
    static func gaussian(n: Int, rho: Float, seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        var values: [Float] = []
        for _ in 0..<n {
            let a = rng.nextNormal(), b = rng.nextNormal(), c = rng.nextNormal()
            values += [a, c, rho * a + (1 - rho * rho).squareRoot() * b]
        }
        return try! Tensor(shape: [n, 3], scalars: values)
    }

    @Test("matches −½ ln(1 − ρ²) for correlated Gaussians and is near 0 for independent ones")
    func gaussianReference() {
        for rho: Float in [0, 0.6, 0.9] {
            let points = Self.gaussian(n: 1500, rho: rho, seed: UInt64(rho * 10) + 1)
            let estimates = MutualInformation.ksg(points: points, blocks: [0..<1, 1..<2, 2..<3], scales: [1, 1, 1])
            let exact = -0.5 * log(1 - Double(rho * rho))
            #expect(abs(estimates[0][2] - exact) < 0.05, "ρ = \(rho): estimate \(estimates[0][2]), exact \(exact)")
            #expect(abs(estimates[1][2]) < 0.05, "independent: estimate \(estimates[1][2])")
        }
    }

    @Test("a block's scale does not change the estimate when every distance is divided by it")
    func scaleInvariance() {
        let points = Self.gaussian(n: 300, rho: 0.8, seed: 2)
        let plain = MutualInformation.ksg(points: points, blocks: [0..<1, 1..<2, 2..<3], scales: [1, 1, 1])
        var scaled = points
        for row in 0..<300 { scaled.scalars[row * 3 + 2] *= 5 }
        let rescaled = MutualInformation.ksg(points: scaled, blocks: [0..<1, 1..<2, 2..<3], scales: [1, 1, 5])
        for a in 0..<3 { for b in (a + 1)..<3 { #expect(abs(plain[a][b] - rescaled[a][b]) < 1e-9) } }
    }
}
