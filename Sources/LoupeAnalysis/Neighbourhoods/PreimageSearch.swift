import Foundation
import LoupeCore

/// One candidate found by a preimage search: a corpus document (its index in the `Corpus`), a
/// document position and the distance computed in double precision.
public struct PreimageHit: Sendable, Equatable {
    public var document: Int
    public var position: Int
    public var distance: Double

    /// Ascending by distance, ties by (document, position).
    func precedes(_ other: PreimageHit) -> Bool {
        (distance, document, position) < (other.distance, other.document, other.position)
    }
}

/// What a preimage search found over a whole store.
public struct PreimageMatches: Sendable, Equatable {
    /// Rows compared (neither a prepended BOS nor the excluded token).
    public var candidates: Int
    /// Candidates with a distance of at most ε (exact).
    public var inside: Int
    /// The `k` nearest, ascending by distance, ties by (document, position).
    public var nearest: [PreimageHit]
}

/// Exact nearest neighbours of a query row among the rows of an activation store that are neither a
/// prepended BOS nor a token equal to the excluded id (the BOS id, wherever it occurs).
///
/// The store is read one chunk (`[R, W]`) at a time. For each chunk, `q·z` and `‖z‖²` over the site's
/// columns come from single-precision BLAS (`Tensor.rowProducts`), giving each row an approximate
/// distance and a guaranteed interval around it (the float32 error bound of a `w`-term sum, doubled).
/// A row is re-scored in double precision, from its float32 values as stored, whenever its interval
/// could reach the current `k`-th best exact distance or straddles ε; every other row is decided by its
/// interval. So `nearest` and `inside` equal a float64 brute-force search over the same rows.
public enum PreimageSearch {
    /// Searches `store` around `query` with `k` ≥ 1 neighbours and `epsilon` ≥ 0; rows holding token
    /// `excluding` are not candidates.
    public static func run(
        store: ActivationStore, query: PreimageQuery, distance: PreimageDistance, k: Int, epsilon: Double, excluding: Int?
    ) throws -> PreimageMatches {
        guard k >= 1 else { throw PreimageError.invalidSetting(name: "k", reason: "must be at least 1, got \(k)") }
        guard epsilon >= 0 && epsilon.isFinite else {
            throw PreimageError.invalidSetting(name: "epsilon", reason: "must be a finite number ≥ 0, got \(epsilon)")
        }
        let site = query.site
        let width = try store.width(of: site.hook)
        guard width == site.rowWidth else {
            throw CorpusError.corruptStore(path: store.directory.path, reason: "hook '\(site.hook)' rows hold \(width) values, the model gives \(site.rowWidth)")
        }
        let scorer = PreimageScorer(query: query.activation.map(Double.init), distance: distance)
        var nearest: [PreimageHit] = []
        var candidates = 0
        var inside = 0
        try store.forEachChunk(hook: site.hook) { chunk in
            let (dots, norms) = chunk.activations.rowProducts(with: query.activation, columns: site.columns)
            chunk.activations.scalars.withUnsafeBufferPointer { values in
                for row in 0..<chunk.rowCount where !chunk.special[row] && chunk.tokens[row] != excluding {
                    candidates += 1
                    let bounds = scorer.bounds(dot: Double(dots[row]), squaredNorm: Double(norms[row]))
                    let threshold = nearest.count < k ? Double.infinity : nearest[k - 1].distance
                    let forNearest = bounds.lower <= threshold
                    if !forNearest && bounds.upper <= epsilon {
                        inside += 1
                        continue
                    }
                    if !forNearest && bounds.lower > epsilon { continue }
                    let start = values.baseAddress! + row * width + site.columns.lowerBound
                    let exact = scorer.exact(UnsafeBufferPointer(start: start, count: site.columns.count))
                    if exact <= epsilon { inside += 1 }
                    let hit = PreimageHit(document: chunk.documents[row], position: chunk.positions[row], distance: exact)
                    if nearest.count < k || hit.precedes(nearest[k - 1]) { insert(hit, into: &nearest, keeping: k) }
                }
            }
        }
        return PreimageMatches(candidates: candidates, inside: inside, nearest: nearest)
    }

    /// Inserts `hit` in order and drops what falls past `k`.
    private static func insert(_ hit: PreimageHit, into list: inout [PreimageHit], keeping k: Int) {
        var low = 0, high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle].precedes(hit) { low = middle + 1 } else { high = middle }
        }
        list.insert(hit, at: low)
        if list.count > k { list.removeLast() }
    }
}

/// Distances from one query row `q` (`[w]`, in double precision) to candidate rows.
struct PreimageScorer {
    let query: [Double]
    let distance: PreimageDistance
    /// `‖q‖²` and `‖q‖`.
    let squaredNorm: Double
    let norm: Double
    /// Bound on the relative error of a float32 sum of `w` products: `γ_w = w·u / (1 − w·u)`, `u = 2⁻²⁴`.
    let gamma: Double

    init(query: [Double], distance: PreimageDistance) {
        self.query = query
        self.distance = distance
        squaredNorm = query.reduce(0) { $0 + $1 * $1 }
        norm = squaredNorm.squareRoot()
        let unit = Double(query.count) * 0x1p-24
        gamma = unit / (1 - unit)
    }

    /// An interval sure to hold the exact distance, from float32 `q·z` and `‖z‖²`.
    func bounds(dot: Double, squaredNorm rowSquaredNorm: Double) -> (lower: Double, upper: Double) {
        // |dot − q·z| ≤ γ‖q‖‖z‖ and |norm² − ‖z‖²| ≤ γ‖z‖²; the margins below double both.
        let rowNorm = (max(rowSquaredNorm, 0) / (1 - gamma)).squareRoot()
        switch distance {
        case .l2:
            let estimate = (squaredNorm - 2 * dot + rowSquaredNorm) / squaredNorm
            let margin = 2 * gamma * (2 * norm * rowNorm + rowNorm * rowNorm) / squaredNorm + 1e-12
            return (max(estimate - margin, 0).squareRoot(), (max(estimate, 0) + margin).squareRoot())
        case .cosine:
            guard rowSquaredNorm > 1e-30 else { return (0, 2) }
            let estimate = 1 - dot / (norm * rowSquaredNorm.squareRoot())
            let margin = 6 * gamma + 1e-12
            return (estimate - margin, estimate + margin)
        }
    }

    /// The distance to `row` in double precision.
    func exact(_ row: UnsafeBufferPointer<Float>) -> Double {
        switch distance {
        case .l2:
            var sum = 0.0
            for index in 0..<query.count {
                let difference = query[index] - Double(row[index])
                sum += difference * difference
            }
            return sum.squareRoot() / norm
        case .cosine:
            var dot = 0.0, rowSquaredNorm = 0.0
            for index in 0..<query.count {
                let value = Double(row[index])
                dot += query[index] * value
                rowSquaredNorm += value * value
            }
            return rowSquaredNorm == 0 ? 1 : 1 - dot / (norm * rowSquaredNorm.squareRoot())
        }
    }
}
