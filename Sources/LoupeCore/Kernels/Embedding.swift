// Embedding lookup. Shape legend: N tokens, V vocabulary, C channels.

extension Tensor {
    /// Rows of this `[V, C]` table for each id: `ids` (N of them) → `[N, C]`.
    ///
    /// Every id must be in `0..<V` (checked); callers validate user-supplied ids first, so they
    /// can throw instead.
    public func gatherRows(_ ids: [Int]) -> Tensor {
        Tensor.requireLayouts("gatherRows", self)
        precondition(rank == 2, "gatherRows needs a [V, C] table, got \(shape)")
        let (rows, width) = (shape[0], shape[1])
        checkRowIds(ids, rows: rows, operation: "gatherRows")
        let result = uninitializedScalars(ids.count * width) { out in
            scalars.withUnsafeBufferPointer { table in
                let source = table.baseAddress!
                for (i, id) in ids.enumerated() {
                    (out + i &* width).initialize(from: source + id &* width, count: width)
                }
            }
        }
        return Tensor(uncheckedShape: [ids.count, width], scalars: result)
    }
}

extension Tensor {
    /// Backward of `gatherRows`: adds row `i` of `outputGradient` (`[N…, C]`, N rows in all) into
    /// row `ids[i]` of `self`, the `[V, C]` table gradient. Every id must be in `0..<V` (checked).
    public mutating func scatterAddRows(_ ids: [Int], outputGradient: Tensor) {
        Tensor.requireLayouts("scatterAddRows", self, outputGradient)
        precondition(rank == 2, "scatterAddRows needs a [V, C] table, got \(shape)")
        let (rows, width) = (shape[0], shape[1])
        precondition(
            outputGradient.shape.last == width && outputGradient.count == ids.count * width,
            "scatterAddRows: output gradient \(outputGradient.shape), expected \(ids.count) rows of \(width)")
        checkRowIds(ids, rows: rows, operation: "scatterAddRows")
        scalars.withUnsafeMutableBufferPointer { table in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                let (target, source) = (table.baseAddress!, dy.baseAddress!)
                for (i, id) in ids.enumerated() {
                    BLAS.saxpy(n: width, alpha: 1, x: source + i &* width, y: target + id &* width)
                }
            }
        }
    }
}

/// Stops the program unless every id is a row of a table with `rows` rows.
@inline(__always)
private func checkRowIds(_ ids: [Int], rows: Int, operation: String) {
    precondition(
        ids.allSatisfy { $0 >= 0 && $0 < rows },
        "\(operation): id \(ids.first { $0 < 0 || $0 >= rows } ?? 0) outside 0..<\(rows)")
}
