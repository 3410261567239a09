import Foundation
import LoupeCore

/// Test data with known subspaces: independent variables `t_p ~ U(0, 1)`, each embedded in its own
/// block of coordinates as a closed curve (coordinates `2c` and `2c + 1` of a block are
/// `cos 2π(c+1)t`, `sin 2π(c+1)t`, plus small Gaussian noise), then the whole space turned by a random
/// rotation `Q`: `h = x Q`, `x` `[n, d]` with the blocks consecutive.
struct PlantedSubspaces {
    /// Size of each planted block, in coordinate order.
    let sizes: [Int]
    /// `[d, d]` random orthogonal: planted block `p` is spanned by rows `ranges[p]` of it.
    let rotation: Tensor
    /// `[n, d]` rotated activations.
    let activations: Tensor

    init(sizes: [Int], rows: Int, noise: Float = 0.01, seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let d = sizes.reduce(0, +)
        self.sizes = sizes
        rotation = OrthogonalMatrix.random(size: d, rng: &rng)
        var latent = [Float](repeating: 0, count: rows * d)
        for row in 0..<rows {
            var start = 0
            for size in sizes {
                let t = Double(rng.nextUniform())
                for c in 0..<size {
                    let angle = 2 * Double.pi * Double(c / 2 + 1) * t
                    latent[row * d + start + c] = Float(c % 2 == 0 ? cos(angle) : sin(angle)) + noise * rng.nextNormal()
                }
                start += size
            }
        }
        activations = try! Tensor(shape: [rows, d], scalars: latent).matmul(rotation)
    }

    /// The coordinate range of each planted block.
    var ranges: [Range<Int>] {
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return start..<(start + size)
        }
    }

    /// The fraction of planted block `p`'s directions that the columns `columns` of `learned` `[d, d]`
    /// span: `‖Q_p R_L‖²_F / |p|` (the variance captured for an isotropic block).
    func captured(block p: Int, by columns: [Int], of learned: Tensor) -> Double {
        let d = rotation.shape[0]
        var total = 0.0
        for row in ranges[p] {
            for column in columns {
                var dot = 0.0
                for i in 0..<d { dot += Double(rotation.scalars[row * d + i]) * Double(learned.scalars[i * d + column]) }
                total += dot * dot
            }
        }
        return total / Double(sizes[p])
    }
}
