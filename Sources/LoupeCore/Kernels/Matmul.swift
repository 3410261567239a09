// Matrix products on tensors. Shape legend: N rows (any leading dims flattened), I input
// features, O output features.

/// Allocates `count` floats and lets `body` write every one of them.
@inline(__always)
func uninitializedScalars(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 { body(buffer.baseAddress!) }
        initialized = count
    }
}

extension Tensor {
    /// Product of the last dimension with the rows of `weight`, plus an optional bias.
    ///
    /// `self` `[..., I]` · `weight` `[I, O]` (+ `bias` `[O]`) → `[..., O]`. This is a Hugging Face
    /// Conv1D (weights stored `[in, out]`).
    public func matmul(_ weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        try product(weight, transposed: false, bias: bias, operation: "matmul")
    }

    /// Product of the last dimension with the transpose of `weight`.
    ///
    /// `self` `[..., I]` · `weight`ᵀ where `weight` is `[O, I]` → `[..., O]` (e.g. a tied unembedding
    /// with the embedding table `[V, C]`).
    public func matmulTransposed(_ weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        try product(weight, transposed: true, bias: bias, operation: "matmulTransposed")
    }

    /// `self` `[..., I]` times `weight` (`[I, O]`, or `[O, I]` used transposed) plus an optional bias.
    private func product(_ weight: Tensor, transposed: Bool, bias: Tensor?, operation: String) throws -> Tensor {
        try Tensor.checkLayouts(operation, self, weight, bias)
        let innerAxis = transposed ? 1 : 0
        guard let inner = shape.last, inner > 0 else {
            throw CoreError.incompatibleShapes(operation: operation, detail: "input \(shape) needs [..., I] with I ≥ 1")
        }
        guard weight.rank == 2, weight.shape[innerAxis] == inner else {
            let expected = transposed ? "[O, \(inner)]" : "[\(inner), O]"
            throw CoreError.incompatibleShapes(
                operation: operation, detail: "input \(shape) needs a weight \(expected), found \(weight.shape)")
        }
        let outer = weight.shape[1 - innerAxis]
        if let bias, bias.shape != [outer] {
            throw CoreError.incompatibleShapes(operation: operation, detail: "bias \(bias.shape), expected [\(outer)]")
        }
        let rows = count / inner
        let groupRows = rank >= 3 ? shape[rank - 2] : rows
        let layout = ProductLayout(
            groups: groupRows == 0 ? [] : Array(repeating: groupRows, count: rows / groupRows), rowCost: outer * inner)
        let input = layout.isIdentity ? scalars : layout.spread(scalars, width: inner)
        let result = uninitializedScalars(layout.calledRows * outer) { out in
            fillRows(out, rows: layout.calledRows, columns: outer, with: bias)
            input.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    BLAS.sgemm(
                        transposeA: false, transposeB: transposed, m: layout.calledRows, n: outer, k: inner,
                        a: x.baseAddress!, lda: inner, b: w.baseAddress!, ldb: transposed ? inner : outer,
                        beta: bias == nil ? 0 : 1, c: out, ldc: outer)
                }
            }
        }
        return Tensor(uncheckedShape: Array(shape.dropLast()) + [outer], scalars: layout.isIdentity ? result : layout.gather(result, width: outer))
    }
}

/// Where `matmul` and `matmulTransposed` place their rows in the product they ask OpenBLAS for, so
/// that a row's bits do not depend on the other rows of the call.
///
/// OpenBLAS's AVX2 kernels round a row by its place in a tile of `tile` rows and sum the rows past
/// the last whole tile with other kernels; its AVX-512 ones sum products of at most
/// `smallProductLimit` multiply-adds with small-matrix kernels. So rows come in groups (a sequence's
/// `T` rows of a `[B, T, I]` input; all rows of a `[N, I]` one), each group starts a tile, every
/// tile is whole (zero rows fill the gaps), and the call is padded with zero rows past the
/// small-product limit: a sequence's rows get the same bits whichever sequences share the call,
/// and a row of a matrix the same bits whichever rows follow it. Callers that pass a row-wise
/// function a matrix of several sequences lay it out the same way (`spread`, then `gather`).
public struct ProductLayout: Sendable {
    /// OpenBLAS's largest row tile (24 rows in its Haswell and Zen kernels).
    public static let tile = 24
    /// Products of at most this many multiply-adds go through OpenBLAS's small-matrix kernels on
    /// AVX-512 machines, which sum in another order than its blocked kernel.
    static let smallProductLimit = 1_000_000

    /// Rows of each group, in order.
    public let groups: [Int]
    /// All rows of the groups.
    let rows: Int
    /// Where each group starts in the called rows (a multiple of `tile`).
    let starts: [Int]
    /// Rows of the call: whole tiles, and for a product of `rowCost` multiply-adds a row, more than
    /// the small-product limit.
    public let calledRows: Int

    /// Groups of `groups` rows; `rowCost` is the multiply-adds of one row of the product (0 when
    /// the rows go to something other than one product).
    public init(groups: [Int], rowCost: Int = 0) {
        self.groups = groups
        rows = groups.reduce(0, +)
        var starts: [Int] = []
        var next = 0
        for rows in groups {
            starts.append(next)
            next += (rows + Self.tile - 1) / Self.tile * Self.tile
        }
        self.starts = starts
        let floor = rowCost == 0 ? 0 : Self.smallProductLimit / rowCost + 1
        calledRows = next * rowCost > Self.smallProductLimit ? next : (max(next, floor) + Self.tile - 1) / Self.tile * Self.tile
    }

    /// Whether the rows are called as they are.
    public var isIdentity: Bool { calledRows == rows }

    /// `values` (the groups' rows of `width`, one after another) placed group by group from
    /// tile starts, zeros between: `calledRows` rows.
    public func spread(_ values: [Float], width: Int) -> [Float] {
        var out = [Float](repeating: 0, count: calledRows * width)
        var source = 0
        for (rows, start) in zip(groups, starts) {
            out.replaceSubrange((start * width)..<((start + rows) * width), with: values[source..<(source + rows * width)])
            source += rows * width
        }
        return out
    }

    /// The rows `spread` placed, taken back out of `values` (`calledRows` rows of `width`).
    public func gather(_ values: [Float], width: Int) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(rows * width)
        for (rows, start) in zip(groups, starts) {
            out.append(contentsOf: values[(start * width)..<((start + rows) * width)])
        }
        return out
    }
}

extension Tensor {
    /// Backward of `x.matmul(weight, bias:)` with `x` = `self` `[N…, I]`, `weight` `[I, O]` and the
    /// output gradient `[N…, O]`: accumulates `weightGradient` `[I, O]` += xᵀ·dy and
    /// `biasGradient` `[O]` += Σ dy, and returns the input gradient dy·Wᵀ (`[N…, I]`), or `nil`
    /// when `needsInputGradient` is false.
    public func matmulBackward(
        weight: Tensor, outputGradient: Tensor, weightGradient: inout Tensor, biasGradient: inout Tensor?,
        needsInputGradient: Bool = true
    ) -> Tensor? {
        let (inner, outer, rows) = checkBackward(
            "matmulBackward", weight: weight, innerAxis: 0, outputGradient: outputGradient, weightGradient: weightGradient)
        if let biasGradient {
            Tensor.requireLayouts("matmulBackward", biasGradient)
            precondition(biasGradient.shape == [outer], "matmulBackward: bias gradient \(biasGradient.shape), expected [\(outer)]")
        }
        accumulateWeightGradient(&weightGradient, outputGradient: outputGradient, weightIsTransposed: false, rows: rows, inner: inner, outer: outer)
        if biasGradient != nil {
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                biasGradient!.scalars.withUnsafeMutableBufferPointer { db in
                    for row in 0..<rows {
                        BLAS.saxpy(n: outer, alpha: 1, x: dy.baseAddress! + row * outer, y: db.baseAddress!)
                    }
                }
            }
        }
        guard needsInputGradient else { return nil }
        return inputGradient(weight: weight, outputGradient: outputGradient, weightIsTransposed: false, rows: rows, inner: inner, outer: outer)
    }

    /// Backward of `x.matmulTransposed(weight)` with `x` = `self` `[N…, I]`, `weight` `[O, I]` and the
    /// output gradient `[N…, O]`: accumulates `weightGradient` `[O, I]` += dyᵀ·x and returns the
    /// input gradient dy·W (`[N…, I]`).
    public func matmulTransposedBackward(weight: Tensor, outputGradient: Tensor, weightGradient: inout Tensor) -> Tensor {
        let (inner, outer, rows) = checkBackward(
            "matmulTransposedBackward", weight: weight, innerAxis: 1, outputGradient: outputGradient, weightGradient: weightGradient)
        accumulateWeightGradient(&weightGradient, outputGradient: outputGradient, weightIsTransposed: true, rows: rows, inner: inner, outer: outer)
        return inputGradient(weight: weight, outputGradient: outputGradient, weightIsTransposed: true, rows: rows, inner: inner, outer: outer)
    }

    /// Accumulates the weight gradient of a product with a weight `[I, O]` (xᵀ·dy) or, when
    /// `weightIsTransposed`, `[O, I]` (dyᵀ·x), with x = `self` `[N, I]` and dy `[N, O]`. Shapes are
    /// checked by the callers.
    private func accumulateWeightGradient(
        _ weightGradient: inout Tensor, outputGradient: Tensor, weightIsTransposed: Bool, rows: Int, inner: Int, outer: Int
    ) {
        scalars.withUnsafeBufferPointer { x in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                weightGradient.scalars.withUnsafeMutableBufferPointer { dw in
                    let (left, right) = weightIsTransposed ? (dy.baseAddress!, x.baseAddress!) : (x.baseAddress!, dy.baseAddress!)
                    let (m, n) = weightIsTransposed ? (outer, inner) : (inner, outer)
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: m, n: n, k: rows,
                        a: left, lda: m, b: right, ldb: n, beta: 1, c: dw.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// The input gradient of a product with `weight` (`[I, O]`, or `[O, I]` when `weightIsTransposed`):
    /// dy `[N, O]` times the weight's `[O, I]` view, shaped like `self`. Shapes are checked by the callers.
    private func inputGradient(
        weight: Tensor, outputGradient: Tensor, weightIsTransposed: Bool, rows: Int, inner: Int, outer: Int
    ) -> Tensor {
        let result = uninitializedScalars(rows * inner) { dx in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                weight.scalars.withUnsafeBufferPointer { w in
                    BLAS.sgemm(
                        transposeA: false, transposeB: !weightIsTransposed, m: rows, n: inner, k: outer,
                        a: dy.baseAddress!, lda: outer, b: w.baseAddress!, ldb: weightIsTransposed ? inner : outer,
                        c: dx, ldc: inner)
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
    }

    /// Checks the operands of a product's backward pass (`self` `[N…, I]`, `weight` with I on
    /// `innerAxis`, output gradient `[N…, O]`, weight gradient shaped like `weight`) and returns
    /// I, O and the row count N.
    private func checkBackward(
        _ operation: String, weight: Tensor, innerAxis: Int, outputGradient: Tensor, weightGradient: Tensor
    ) -> (inner: Int, outer: Int, rows: Int) {
        Tensor.requireLayouts(operation, self, weight, outputGradient, weightGradient)
        precondition(
            rank >= 1 && weight.rank == 2 && shape[rank - 1] > 0 && weight.shape[innerAxis] == shape[rank - 1],
            "\(operation): input \(shape) does not fit weight \(weight.shape)")
        let (inner, outer) = (weight.shape[innerAxis], weight.shape[1 - innerAxis])
        let expected = Array(shape.dropLast()) + [outer]
        precondition(
            outputGradient.shape == expected,
            "\(operation): output gradient \(outputGradient.shape), expected \(expected)")
        precondition(
            weightGradient.shape == weight.shape,
            "\(operation): weight gradient \(weightGradient.shape), expected \(weight.shape)")
        return (inner, outer, count / inner)
    }
}

/// Writes `bias` into every row of `out` (`[rows, columns]`), or zeros when there is no bias.
@inline(__always)
private func fillRows(_ out: UnsafeMutablePointer<Float>, rows: Int, columns: Int, with bias: Tensor?) {
    guard let bias else {
        out.initialize(repeating: 0, count: rows * columns)
        return
    }
    bias.scalars.withUnsafeBufferPointer { b in
        for row in 0..<rows {
            (out + row * columns).initialize(from: b.baseAddress!, count: columns)
        }
    }
}
