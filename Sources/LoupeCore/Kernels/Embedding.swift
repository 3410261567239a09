// Embedding lookup. Shape legend: N tokens, V vocabulary, C channels.

extension Tensor {
    /// Rows of this `[V, C]` table for each id: `ids` (N of them) → `[N, C]`.
    ///
    /// Every id must be in `0..<V`; callers validate user-supplied ids first.
    public func gatherRows(_ ids: [Int]) -> Tensor {
        precondition(rank == 2, "gatherRows needs a [V, C] table, got \(shape)")
        let width = shape[1]
        let rows = shape[0]
        let result = uninitializedScalars(ids.count * width) { out in
            scalars.withUnsafeBufferPointer { table in
                for (i, id) in ids.enumerated() {
                    precondition(id >= 0 && id < rows, "gatherRows: id \(id) outside 0..<\(rows)")
                    (out + i * width).initialize(from: table.baseAddress! + id * width, count: width)
                }
            }
        }
        return Tensor(uncheckedShape: [ids.count, width], scalars: result)
    }
}

extension Tensor {
    /// Backward of `gatherRows`: adds row `i` of `outputGradient` (`[N, C]`) into row `ids[i]` of
    /// `self`, the `[V, C]` table gradient.
    public mutating func scatterAddRows(_ ids: [Int], outputGradient: Tensor) {
        let width = shape[1]
        precondition(outputGradient.count == ids.count * width)
        scalars.withUnsafeMutableBufferPointer { table in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                for (i, id) in ids.enumerated() {
                    BLAS.saxpy(n: width, alpha: 1, x: dy.baseAddress! + i * width, y: table.baseAddress! + id * width)
                }
            }
        }
    }
}
