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

    @Test("nearest rows are the nearest of a brute-force search to rounding, block by block, in one tile and in several")
    func nearestRows() throws {
        var rng = SeededRandom(seed: 3)
        let w = 7
        // 17 queries search 200 candidates in one tile; 1100 queries search 300 in tiles of 119.
        for (n, b) in [(200, 17), (300, 1100)] {
            let candidates = try Tensor(shape: [n, w], scalars: (0..<(n * w)).map { _ in rng.nextNormal() })
            let queries = try Tensor(shape: [b, w], scalars: (0..<(b * w)).map { _ in rng.nextNormal() })
            let blocks = [2..<6, 0..<1, 6..<7, 0..<7]
            let found = candidates.nearestRows(to: queries, blocks: blocks)
            for (block, columns) in blocks.enumerated() {
                for q in 0..<b {
                    func distance(_ c: Int) -> Double {
                        columns.reduce(0.0) { $0 + pow(Double(queries.scalars[q * w + $1]) - Double(candidates.scalars[c * w + $1]), 2) }
                    }
                    let best = (0..<n).map(distance).min()!
                    // Single precision ranks `‖c‖² − 2 q·c`: a near-tie may go either way, by at most its rounding.
                    #expect(distance(found[block][q]) <= best + 1e-5, "query \(q), block \(columns): \(distance(found[block][q])) against \(best)")
                }
            }
        }
        let queries = try Tensor(shape: [17, w], scalars: (0..<(17 * w)).map { _ in rng.nextNormal() })
        let b = 17
        let product = queries.transposedProduct(queries)
        var expected = 0.0
        for row in 0..<b { expected += Double(queries.scalars[row * w + 1]) * Double(queries.scalars[row * w + 4]) }
        #expect(abs(Double(product.scalars[1 * w + 4]) - expected) < 1e-4)
    }
}
