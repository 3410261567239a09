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
        let innerAxis = transposed ? 1 : 0
        guard let inner = shape.last, weight.rank == 2, weight.shape[innerAxis] == inner else {
            throw CoreError.incompatibleShapes(operation: operation, detail: "\(shape) · \(weight.shape)\(transposed ? "ᵀ" : "")")
        }
        let outer = weight.shape[1 - innerAxis]
        if let bias, bias.shape != [outer] {
            throw CoreError.incompatibleShapes(operation: operation, detail: "bias \(bias.shape) for \(outer) outputs")
        }
        let rows = inner == 0 ? count : count / inner
        let result = uninitializedScalars(rows * outer) { out in
            fillRows(out, rows: rows, columns: outer, with: bias)
            scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    BLAS.sgemm(
                        transposeA: false, transposeB: transposed, m: rows, n: outer, k: inner,
                        a: x.baseAddress!, lda: inner, b: w.baseAddress!, ldb: transposed ? inner : outer,
                        beta: bias == nil ? 0 : 1, c: out, ldc: outer)
                }
            }
        }
        return Tensor(uncheckedShape: Array(shape.dropLast()) + [outer], scalars: result)
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
        let (inner, outer) = (weight.shape[0], weight.shape[1])
        let rows = count / inner
        precondition(outputGradient.count == rows * outer && weightGradient.shape == weight.shape)
        scalars.withUnsafeBufferPointer { x in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                weightGradient.scalars.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: inner, n: outer, k: rows,
                        a: x.baseAddress!, lda: inner, b: dy.baseAddress!, ldb: outer,
                        beta: 1, c: dw.baseAddress!, ldc: outer)
                }
            }
        }
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
        let result = uninitializedScalars(rows * inner) { dx in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                weight.scalars.withUnsafeBufferPointer { w in
                    BLAS.sgemm(
                        transposeA: false, transposeB: true, m: rows, n: inner, k: outer,
                        a: dy.baseAddress!, lda: outer, b: w.baseAddress!, ldb: outer,
                        c: dx, ldc: inner)
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
    }

    /// Backward of `x.matmulTransposed(weight)` with `x` = `self` `[N…, I]`, `weight` `[O, I]` and the
    /// output gradient `[N…, O]`: accumulates `weightGradient` `[O, I]` += dyᵀ·x and returns the
    /// input gradient dy·W (`[N…, I]`).
    public func matmulTransposedBackward(weight: Tensor, outputGradient: Tensor, weightGradient: inout Tensor) -> Tensor {
        let (outer, inner) = (weight.shape[0], weight.shape[1])
        let rows = count / inner
        precondition(outputGradient.count == rows * outer && weightGradient.shape == weight.shape)
        scalars.withUnsafeBufferPointer { x in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                weightGradient.scalars.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: outer, n: inner, k: rows,
                        a: dy.baseAddress!, lda: outer, b: x.baseAddress!, ldb: inner,
                        beta: 1, c: dw.baseAddress!, ldc: inner)
                }
            }
        }
        let result = uninitializedScalars(rows * inner) { dx in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                weight.scalars.withUnsafeBufferPointer { w in
                    BLAS.sgemm(
                        transposeA: false, transposeB: false, m: rows, n: inner, k: outer,
                        a: dy.baseAddress!, lda: outer, b: w.baseAddress!, ldb: inner,
                        c: dx, ldc: inner)
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
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
