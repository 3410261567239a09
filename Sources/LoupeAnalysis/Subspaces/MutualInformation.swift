import LoupeCore

/// The Kraskov–Stögbauer–Grassberger estimate (first estimator, k = 1) of the mutual information
/// between blocks of a sample, in nats.
///
/// For points `i` of a sample of `n`, with `D_a(i, l)` the Euclidean distance between points `i` and
/// `l` inside block `a` (divided by the square root of the block's total variance), the joint
/// distance is `max(D_a, D_b)`; `ε_i` is the joint distance to `i`'s nearest other point, and
/// `n_a(i)` counts the points strictly closer than `ε_i` inside block `a`. Then
/// `I(a; b) = ψ(1) + ψ(n) − mean_i [ψ(n_a(i) + 1) + ψ(n_b(i) + 1)]`.
public enum MutualInformation {
    /// The estimate for every pair `(a, b)`, `a < b`, of the blocks (column ranges) of `points` `[n, d]`;
    /// `scales[a]` divides block `a`'s distances. Returns `[a][b]` (upper triangle filled, the rest 0).
    public static func ksg(points: Tensor, blocks: [Range<Int>], scales: [Double]) -> [[Double]] {
        precondition(points.rank == 2 && blocks.count == scales.count, "ksg: points \(points.shape), \(blocks.count) blocks, \(scales.count) scales")
        let (n, width) = (points.shape[0], points.shape[1])
        // distances[a][i * n + l]: block a's scaled distance between points i and l (infinite on the diagonal).
        let distances: [[Double]] = blocks.indices.map { a in
            var result = [Double](repeating: .infinity, count: n * n)
            let range = blocks[a]
            points.scalars.withUnsafeBufferPointer { x in
                for i in 0..<n {
                    for l in (i + 1)..<max(i + 1, n) {
                        var sum = 0.0
                        for c in range {
                            let difference = Double(x[i * width + c]) - Double(x[l * width + c])
                            sum += difference * difference
                        }
                        let distance = sum.squareRoot() / scales[a]
                        result[i * n + l] = distance
                        result[l * n + i] = distance
                    }
                }
            }
            return result
        }
        let constant = digamma(1) + digamma(n)
        let pairs = blocks.indices.flatMap { a in ((a + 1)..<blocks.count).map { (a, $0) } }
        let values: [Double] = pairs.indices.map { index in
            let (a, b) = pairs[index]
            let (first, second) = (distances[a], distances[b])
            var total = 0.0
            for i in 0..<n {
                let row = i * n
                var epsilon = Double.infinity
                for l in 0..<n { epsilon = min(epsilon, max(first[row + l], second[row + l])) }
                var countA = 0, countB = 0
                for l in 0..<n {
                    if first[row + l] < epsilon { countA += 1 }
                    if second[row + l] < epsilon { countB += 1 }
                }
                total += digamma(countA + 1) + digamma(countB + 1)
            }
            return constant - total / Double(n)
        }
        var result = [[Double]](repeating: [Double](repeating: 0, count: blocks.count), count: blocks.count)
        for (index, pair) in pairs.enumerated() { result[pair.0][pair.1] = values[index] }
        return result
    }

    /// ψ(m) for a positive integer: `−γ + Σ_{i<m} 1/i`.
    static func digamma(_ m: Int) -> Double {
        var sum = -0.577_215_664_901_532_9
        if m > 1 { for i in 1..<m { sum += 1 / Double(i) } }
        return sum
    }
}
