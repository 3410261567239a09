import LoupeCore

/// Neighbours of an activation inside one subspace: the cosine similarity of the projections
/// `x R_s` of the query and of every other sample activation.
public struct SubspaceNeighbours {
    /// `[P, |s|]`: every sample activation projected onto the subspace.
    public let projected: Tensor

    /// Projects `activations` `[P, d]` onto the columns `block` of `rotation` `[d, d]`.
    public init(activations: Tensor, rotation: Tensor, block: [Int]) {
        let d = rotation.shape[0]
        var basis = Tensor(shape: [d, block.count])
        for row in 0..<d { for (c, column) in block.enumerated() { basis.scalars[row * block.count + c] = rotation.scalars[row * d + column] } }
        projected = try! activations.matmul(basis)
    }

    /// The cosine similarity of row `query` with every row (`[P]`; 0 against a zero projection).
    public func similarities(to query: Int) -> [Double] {
        let k = projected.shape[1]
        let rows = projected.shape[0]
        let (dots, norms) = projected.rowProducts(with: Array(projected.scalars[(query * k)..<((query + 1) * k)]), columns: 0..<k)
        let queryNorm = Double(norms[query]).squareRoot()
        return (0..<rows).map { row in
            let norm = Double(norms[row]).squareRoot() * queryNorm
            return norm > 0 ? Double(dots[row]) / norm : 0
        }
    }

    /// The rows other than `query` whose similarity is at least `threshold`, and up to `count` of them
    /// drawn at random (seeded by `rng`), most similar first (ties by row).
    public func neighbours(of query: Int, threshold: Double, count: Int, rng: inout SeededRandom) -> (inside: [Int], shown: [(row: Int, similarity: Double)]) {
        let similarity = similarities(to: query)
        var inside = similarity.indices.filter { $0 != query && similarity[$0] >= threshold }
        let all = inside
        for i in 0..<min(count, inside.count) { inside.swapAt(i, i + rng.nextInt(below: inside.count - i)) }
        let shown = inside.prefix(count).map { (row: $0, similarity: similarity[$0]) }
            .sorted { $0.similarity == $1.similarity ? $0.row < $1.row : $0.similarity > $1.similarity }
        return (all, shown)
    }
}
