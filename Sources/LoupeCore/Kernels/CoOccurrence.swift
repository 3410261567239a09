// Co-occurrence counts of positive entries. Shape legend: N rows, F columns.

/// Counts, for every pair of columns of a matrix, the rows on which both are positive.
///
/// Each column's positive entries are packed into a bit set over the rows, and every pair of
/// columns is counted with a bitwise AND and a population count: `F²/2 · N/64` word operations,
/// whatever the fraction of positive entries (a sparse pass over the positive entries of each
/// row costs `Σ (positives per row)²` scattered increments instead, which is cheaper only when
/// rows are sparse).
public enum CoOccurrence {
    /// Adds to `counts` (`[F, F]` row-major, `F·F` values) the number of rows `r` with
    /// `include[r]` on which both column i and column j of `values` (`[N, F]`) are > 0.
    /// The result is symmetric; the diagonal gets each column's count of positive rows.
    public static func accumulatePositive(_ values: Tensor, include: [Bool], into counts: inout [UInt32]) throws {
        try Tensor.checkLayouts("CoOccurrence.accumulatePositive", values)
        guard values.rank == 2 else {
            throw CoreError.incompatibleShapes(operation: "CoOccurrence.accumulatePositive", detail: "needs a [N, F] matrix, got \(values.shape)")
        }
        let (rows, columns) = (values.shape[0], values.shape[1])
        guard include.count == rows, counts.count == columns * columns else {
            throw CoreError.incompatibleShapes(
                operation: "CoOccurrence.accumulatePositive",
                detail: "\(rows) rows need \(rows) include flags (got \(include.count)) and \(columns)² counts (got \(counts.count))")
        }
        guard rows > 0, columns > 0 else { return }
        let words = (rows + 63) / 64
        var bits = [UInt64](repeating: 0, count: columns * words)
        values.scalars.withUnsafeBufferPointer { source in
            include.withUnsafeBufferPointer { include in
                bits.withUnsafeMutableBufferPointer { packed in
                    let (source, include, packed) = (source.baseAddress!, include.baseAddress!, packed.baseAddress!)
                    parallelChunks(count: columns, minimumChunk: 64) { owned in
                        for row in 0..<rows where include[row] {
                            let line = source + row &* columns
                            let (word, bit) = (row >> 6, UInt64(1) << UInt64(row & 63))
                            for column in owned where line[column] > 0 { packed[column &* words &+ word] |= bit }
                        }
                    }
                }
            }
        }
        bits.withUnsafeBufferPointer { packed in
            counts.withUnsafeMutableBufferPointer { target in
                let (packed, target) = (packed.baseAddress!, target.baseAddress!)
                // Work item p counts rows p and F−1−p of the upper triangle, so items cost the same.
                parallelChunks(count: (columns + 1) / 2, minimumChunk: 1) { items in
                    for item in items {
                        for i in item == columns - 1 - item ? [item] : [item, columns - 1 - item] {
                            let a = packed + i &* words
                            for j in i..<columns {
                                let b = packed + j &* words
                                var shared = 0
                                for w in 0..<words { shared &+= (a[w] & b[w]).nonzeroBitCount }
                                guard shared > 0 else { continue }
                                target[i &* columns &+ j] &+= UInt32(shared)
                                if j != i { target[j &* columns &+ i] &+= UInt32(shared) }
                            }
                        }
                    }
                }
            }
        }
    }
}
