import Foundation
import LoupeCore
import Testing

@Suite("Orthogonal matrices, symmetric eigenvectors and nearest rows")
struct OrthogonalTests {
    @Test("the QR retraction gives an orthogonal matrix spanning the same leading columns, and keeps an orthogonal one")
    func retraction() throws {
        var rng = SeededRandom(seed: 1)
        let d = 12
        let random = try Tensor(shape: [d, d], scalars: (0..<(d * d)).map { _ in rng.nextNormal() })
        let q = OrthogonalMatrix.retract(random)
        #expect(OrthogonalMatrix.deviation(q) < 1e-6)
        // Column 0 of Q is column 0 of the input, normalised.
        let norm = (0..<d).reduce(Float(0)) { $0 + random.scalars[$1 * d] * random.scalars[$1 * d] }.squareRoot()
        for i in 0..<d { #expect(abs(q.scalars[i * d] - random.scalars[i * d] / norm) < 1e-5) }
        #expect(OrthogonalMatrix.retract(q).maxAbsDifference(q) < 1e-6)
        #expect(OrthogonalMatrix.deviation(random) > 0.1)
    }

    @Test("Jacobi eigenvectors satisfy A v = λ v, in decreasing order")
    func symmetricEigen() {
        var rng = SeededRandom(seed: 2)
        let d = 9
        var base = [Double](repeating: 0, count: d * d)
        for i in 0..<(d * d) { base[i] = Double(rng.nextNormal()) }
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { for k in 0..<d { a[i * d + j] += base[k * d + i] * base[k * d + j] } } }
        let (values, vectors) = SymmetricEigen.decompose(a, size: d)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 >= $1 })
        for column in 0..<d {
            for i in 0..<d {
                var product = 0.0
                for k in 0..<d { product += a[i * d + k] * vectors[k * d + column] }
                #expect(abs(product - values[column] * vectors[i * d + column]) < 1e-9 * max(1, values[0]))
            }
        }
    }

    @Test("nearest rows agree with a brute-force search, block by block")
    func nearestRows() throws {
        var rng = SeededRandom(seed: 3)
        let (n, b, w) = (200, 17, 7)
        let candidates = try Tensor(shape: [n, w], scalars: (0..<(n * w)).map { _ in rng.nextNormal() })
        let queries = try Tensor(shape: [b, w], scalars: (0..<(b * w)).map { _ in rng.nextNormal() })
        let blocks = [2..<6, 0..<1, 6..<7, 0..<7]
        let found = candidates.nearestRows(to: queries, blocks: blocks)
        for (block, columns) in blocks.enumerated() {
            for q in 0..<b {
                var best = -1
                var bestDistance = Double.infinity
                for c in 0..<n {
                    let distance = columns.reduce(0.0) { $0 + pow(Double(queries.scalars[q * w + $1]) - Double(candidates.scalars[c * w + $1]), 2) }
                    if distance < bestDistance { bestDistance = distance; best = c }
                }
                #expect(found[block][q] == best)
            }
        }
        let product = queries.transposedProduct(queries)
        var expected = 0.0
        for row in 0..<b { expected += Double(queries.scalars[row * w + 1]) * Double(queries.scalars[row * w + 4]) }
        #expect(abs(Double(product.scalars[1 * w + 4]) - expected) < 1e-4)
    }
}
