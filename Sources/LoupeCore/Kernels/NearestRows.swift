// Exact nearest-neighbour search between two sets of rows inside column ranges (the blocks of a
// partition), the distances of each block from one matrix product. Shape legend: B query rows,
// N candidate rows, W row width, w the width of one block.

extension Tensor {
    /// For each block (a range of columns) and each row of `queries`, the index of the nearest row of
    /// `self` in Euclidean distance over that block's columns; ties go to the lower index.
    ///
    /// `self` `[N, W]`, `queries` `[B, W]` → per block `[B]` indices. Each block's squared distances
    /// `‖q‖² + ‖c‖² − 2 q·c` are `[B, w]·[w, N]` products added onto the norms, a tile of candidates at a
    /// time so the distances stay in cache, and each row's smallest is found by OpenBLAS's `isamin`
    /// (the values are squared distances, so non-negative up to rounding). Blocks are searched in
    /// parallel, one thread each.
    public func nearestRows(to queries: Tensor, blocks: [Range<Int>]) -> [[Int]] {
        precondition(rank == 2 && queries.rank == 2 && queries.shape[1] == shape[1], "nearestRows: candidates \(shape), queries \(queries.shape)")
        let (n, width, b) = (shape[0], shape[1], queries.shape[0])
        for columns in blocks {
            precondition(columns.lowerBound >= 0 && columns.upperBound <= width && !columns.isEmpty, "nearestRows: columns \(columns) of width \(width)")
        }
        guard n > 0, b > 0 else { return blocks.map { _ in [Int](repeating: -1, count: b) } }
        var result = [[Int]](repeating: [], count: blocks.count)
        scalars.withUnsafeBufferPointer { candidates in
            queries.scalars.withUnsafeBufferPointer { query in
                result.withUnsafeMutableBufferPointer { found in
                    let found = found.baseAddress!
                    parallelChunks(count: blocks.count) { range in
                        var distances = [Float](repeating: 0, count: b * min(n, Self.tileColumns(queries: b)))
                        for block in range {
                            found[block] = Self.nearest(
                                candidates: candidates.baseAddress!, n: n, queries: query.baseAddress!, b: b, width: width,
                                columns: blocks[block], distances: &distances)
                        }
                    }
                }
            }
        }
        return result
    }

    /// Candidate columns per tile of one block's search: a tile of `[B, tile]` distances stays in cache.
    static func tileColumns(queries b: Int) -> Int { max(64, (1 << 17) / max(1, b)) }

    /// One block's search (see `nearestRows(to:blocks:)`), over tiles of candidates; `distances` is
    /// `[B · tile]` scratch. A row's best so far is replaced only by a strictly smaller distance, so
    /// ties keep the lower index.
    private static func nearest(
        candidates: UnsafePointer<Float>, n: Int, queries: UnsafePointer<Float>, b: Int, width: Int, columns: Range<Int>,
        distances: inout [Float]
    ) -> [Int] {
        let used = columns.count
        let candidateBase = candidates + columns.lowerBound, queryBase = queries + columns.lowerBound
        let candidateNorms = (0..<n).map { BLAS.sdot(n: used, x: candidateBase + $0 * width, y: candidateBase + $0 * width) }
        let queryNorms = (0..<b).map { BLAS.sdot(n: used, x: queryBase + $0 * width, y: queryBase + $0 * width) }
        var best = [Int](repeating: 0, count: b)
        var bestValue = [Float](repeating: .infinity, count: b)
        let tile = tileColumns(queries: b)
        distances.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress!
            candidateNorms.withUnsafeBufferPointer { norms in
                for start in stride(from: 0, to: n, by: tile) {
                    let count = min(tile, n - start)
                    for row in 0..<b {
                        let base = out + row * count, offset = queryNorms[row]
                        let tileNorms = norms.baseAddress! + start
                        for column in 0..<count { base[column] = tileNorms[column] + offset }
                    }
                    BLAS.sgemm(
                        transposeA: false, transposeB: true, m: b, n: count, k: used, alpha: -2,
                        a: queryBase, lda: width, b: candidateBase + start * width, ldb: width, beta: 1, c: out, ldc: count)
                    for row in 0..<b {
                        let index = BLAS.isamin(n: count, x: out + row * count)
                        let value = abs(out[row * count + index])
                        if value < bestValue[row] { bestValue[row] = value; best[row] = start + index }
                    }
                }
            }
        }
        return best
    }

    /// `selfᵀ · other`: `self` `[R, I]`, `other` `[R, O]` → `[I, O]`.
    public func transposedProduct(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[0] == other.shape[0], "transposedProduct: \(shape) and \(other.shape)")
        let (rows, inner, outer) = (shape[0], shape[1], other.shape[1])
        let result = uninitializedScalars(inner * outer) { out in
            if rows == 0 { out.initialize(repeating: 0, count: inner * outer); return }
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: inner, n: outer, k: rows,
                        a: a.baseAddress!, lda: inner, b: b.baseAddress!, ldb: outer, c: out, ldc: outer)
                }
            }
        }
        return Tensor(uncheckedShape: [inner, outer], scalars: result)
    }
}
