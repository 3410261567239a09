// Products of one vector with every row of a matrix, for nearest-neighbour search. Shape legend:
// R rows, W row width, w the width of the column range used (a head's slice, or all of W).

extension Tensor {
    /// The dot product of `query` with columns `columns` of every row, and the squared norm of
    /// those columns of every row, in single precision.
    ///
    /// `self` `[R, W]`, `query` `[w]` with `w = columns.count` → `dots` `[R]`, `squaredNorms` `[R]`.
    /// Each value is a single-precision sum of `w` products: its error is at most
    /// `w·2⁻²⁴/(1 − w·2⁻²⁴)` times the sum of the products' magnitudes, whatever the summation order.
    public func rowProducts(with query: [Float], columns: Range<Int>) -> (dots: [Float], squaredNorms: [Float]) {
        precondition(rank == 2, "rowProducts: the matrix must be [R, W], got \(shape)")
        let rows = shape[0], width = shape[1]
        precondition(
            columns.lowerBound >= 0 && columns.upperBound <= width && !columns.isEmpty && query.count == columns.count,
            "rowProducts: columns \(columns) of a [\(rows), \(width)] matrix with a query of \(query.count) values")
        let used = columns.count
        guard rows > 0 else { return ([], []) }
        return scalars.withUnsafeBufferPointer { matrix in
            let base = matrix.baseAddress! + columns.lowerBound
            let dots = uninitializedScalars(rows) { out in
                query.withUnsafeBufferPointer { q in BLAS.sgemv(m: rows, n: used, a: base, lda: width, x: q.baseAddress!, y: out) }
            }
            let norms = uninitializedScalars(rows) { out in
                for row in 0..<rows {
                    let start = base + row * width
                    out[row] = BLAS.sdot(n: used, x: start, y: start)
                }
            }
            return (dots, norms)
        }
    }
}
