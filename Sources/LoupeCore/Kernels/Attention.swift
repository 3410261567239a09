#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Causal multi-head self-attention, in the three steps TransformerLens exposes as hooks.
// Shape legend: B batch, T tokens, H heads, D head width (C = H·D).
// q, k, v and z are `[B, T, H, D]`; scores and pattern are `[B, H, T, T]` (query row, key column).

/// The steps of causal multi-head attention.
public enum CausalAttention {
    /// `scale · q·kᵀ` per batch item and head, with entries above the diagonal (future keys) set
    /// to `-∞`: `q`, `k` `[B, T, H, D]` → scores `[B, H, T, T]`.
    ///
    /// `lengths` `[B]`, when given, marks the positions of each sequence from `lengths[b]` on as
    /// padding: the real rows are computed exactly as for a sequence of that length alone (the same
    /// products, so a window gives the same values however it is batched), and a padding row attends
    /// only to position 0.
    public static func scores(query q: Tensor, key k: Tensor, scale: Float, lengths: [Int]? = nil) throws -> Tensor {
        try Tensor.checkLayouts("attention scores", q, k)
        guard isHeadLayout(q), q.shape == k.shape else {
            throw CoreError.incompatibleShapes(
                operation: "attention scores",
                detail: "q \(q.shape) and k \(k.shape) must both be one [B, T, H, D] with every extent ≥ 1")
        }
        let (b, t, h, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let real = try checkedLengths(lengths, batch: b, tokens: t, operation: "attention scores")
        let c = h * d
        let result = uninitializedScalars(b * h * t * t) { out in
            q.scalars.withUnsafeBufferPointer { qp in
                k.scalars.withUnsafeBufferPointer { kp in
                    forEachHead(shape: q.shape, lengths: real) { pair, n, offset in
                        let s = out + pair * t * t
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: n, n: n, k: d, alpha: scale,
                            a: qp.baseAddress! + offset, lda: c, b: kp.baseAddress! + offset, ldb: c,
                            c: s, ldc: t)
                        for row in 0..<t {
                            let first = row < n ? row &+ 1 : 1
                            if row >= n { s[row &* t] = 0 }
                            (s + (row &* t &+ first)).update(repeating: -Float.infinity, count: t &- first)
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [b, h, t, t], scalars: result)
    }

    /// `lengths` checked against a batch of `batch` sequences of `tokens` positions (every length in
    /// `1...tokens`), or every sequence whole when `nil`.
    private static func checkedLengths(_ lengths: [Int]?, batch: Int, tokens: Int, operation: String) throws -> [Int] {
        guard let lengths else { return [Int](repeating: tokens, count: batch) }
        guard lengths.count == batch, lengths.allSatisfy({ $0 >= 1 && $0 <= tokens }) else {
            throw CoreError.incompatibleShapes(
                operation: operation, detail: "lengths \(lengths) must give each of the \(batch) sequences 1...\(tokens) positions")
        }
        return lengths
    }

    /// Runs `body(pair, n, offset)` in parallel for every batch item and head of a `[B, T, H, D]`
    /// tensor of shape `shape`: `pair` is `batch·H + head`, `n` the item's real length from `lengths`
    /// `[B]`, and `offset` the index of the head's first value at position 0.
    @inline(__always)
    private static func forEachHead(shape: [Int], lengths: [Int], _ body: (_ pair: Int, _ n: Int, _ offset: Int) -> Void) {
        let (b, t, h, d) = (shape[0], shape[1], shape[2], shape[3])
        parallelChunks(count: b * h) { pairs in
            for pair in pairs {
                let (batch, head) = (pair / h, pair % h)
                body(pair, lengths[batch], batch * t * (h * d) + head * d)
            }
        }
    }

    /// Softmax of every score row over the keys it may see (columns `0...row`); the future
    /// columns get probability 0. `[B, H, T, T]` → pattern `[B, H, T, T]`.
    public static func pattern(scores: Tensor) throws -> Tensor {
        try Tensor.checkLayouts("attention pattern", scores)
        guard scores.rank == 4, scores.shape[2] == scores.shape[3] else {
            throw CoreError.incompatibleShapes(operation: "attention pattern", detail: "scores \(scores.shape)")
        }
        let t = scores.shape[3]
        let rows = scores.count / max(1, t)
        let result = uninitializedScalars(scores.count) { out in
            scores.scalars.withUnsafeBufferPointer { sp in
                let s = sp.baseAddress!
                parallelChunks(count: rows, minimumChunk: 256) { range in
                    for row in range {
                        softmaxRow(s + row &* t, out + row &* t, visible: row % t &+ 1, width: t)
                    }
                }
            }
        }
        return Tensor(uncheckedShape: scores.shape, scalars: result)
    }

    /// Attention-weighted values: `pattern` `[B, H, T, T]`, `v` `[B, T, H, D]` → z `[B, T, H, D]`.
    /// With `lengths` (see `scores`), each sequence's real rows mix only its real positions, and a
    /// padding row is the value at position 0.
    public static func mix(pattern: Tensor, value v: Tensor, lengths: [Int]? = nil) throws -> Tensor {
        try Tensor.checkLayouts("attention mix", pattern, v)
        guard isHeadLayout(v) else {
            throw CoreError.incompatibleShapes(
                operation: "attention mix", detail: "v \(v.shape) must be [B, T, H, D] with every extent ≥ 1")
        }
        let expected = [v.shape[0], v.shape[2], v.shape[1], v.shape[1]]
        guard pattern.shape == expected else {
            throw CoreError.incompatibleShapes(
                operation: "attention mix", detail: "pattern \(pattern.shape), expected \(expected) for v \(v.shape)")
        }
        let (b, t, h, d) = (v.shape[0], v.shape[1], v.shape[2], v.shape[3])
        let real = try checkedLengths(lengths, batch: b, tokens: t, operation: "attention mix")
        let c = h * d
        let result = uninitializedScalars(v.count) { out in
            pattern.scalars.withUnsafeBufferPointer { pp in
                v.scalars.withUnsafeBufferPointer { vp in
                    forEachHead(shape: v.shape, lengths: real) { pair, n, offset in
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: n, n: d, k: n,
                            a: pp.baseAddress! + pair * t * t, lda: t,
                            b: vp.baseAddress! + offset, ldb: c,
                            c: out + offset, ldc: c)
                        for row in n..<t {
                            (out + offset + row &* c).update(from: vp.baseAddress! + offset, count: d)
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: v.shape, scalars: result)
    }
}

extension CausalAttention {
    /// Each head's contribution to the attention output: `z` `[B, T, H, D]` with the rows
    /// `h·D..<(h+1)·D` of `outputWeight` `[H·D, C]` → `[B, T, H, C]` (no bias).
    public static func headResults(z: Tensor, outputWeight: Tensor) throws -> Tensor {
        try Tensor.checkLayouts("head results", z, outputWeight)
        guard isHeadLayout(z) else {
            throw CoreError.incompatibleShapes(
                operation: "head results", detail: "z \(z.shape) must be [B, T, H, D] with every extent ≥ 1")
        }
        guard outputWeight.rank == 2, outputWeight.shape[0] == z.shape[2] * z.shape[3] else {
            throw CoreError.incompatibleShapes(
                operation: "head results",
                detail: "W_O \(outputWeight.shape), expected [\(z.shape[2] * z.shape[3]), C] for z \(z.shape)")
        }
        let (b, t, h, d) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3])
        let c = outputWeight.shape[1]
        let rows = b * t
        let result = uninitializedScalars(rows * h * c) { out in
            z.scalars.withUnsafeBufferPointer { zp in
                outputWeight.scalars.withUnsafeBufferPointer { wp in
                    for head in 0..<h {
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: rows, n: c, k: d,
                            a: zp.baseAddress! + head * d, lda: h * d,
                            b: wp.baseAddress! + head * d * c, ldb: c,
                            c: out + head * c, ldc: h * c)
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [b, t, h, c], scalars: result)
    }

    /// Sum over the head axis plus a bias: `[B, T, H, C]` + `[C]` → `[B, T, C]`.
    public static func sumHeads(_ results: Tensor, bias: Tensor) throws -> Tensor {
        try Tensor.checkLayouts("sum heads", results, bias)
        guard results.rank == 4 else {
            throw CoreError.incompatibleShapes(operation: "sum heads", detail: "results \(results.shape) must be [B, T, H, C]")
        }
        guard bias.shape == [results.shape[3]] else {
            throw CoreError.incompatibleShapes(
                operation: "sum heads", detail: "bias \(bias.shape), expected [\(results.shape[3])] for results \(results.shape)")
        }
        let (b, t, h, c) = (results.shape[0], results.shape[1], results.shape[2], results.shape[3])
        let out = uninitializedScalars(b * t * c) { out in
            results.scalars.withUnsafeBufferPointer { rp in
                bias.scalars.withUnsafeBufferPointer { bp in
                    let (perHead, bias) = (rp.baseAddress!, bp.baseAddress!)
                    for row in 0..<(b * t) {
                        let sum = out + row &* c
                        sum.initialize(from: bias, count: c)
                        for head in 0..<h {
                            let result = perHead + (row &* h &+ head) &* c
                            for j in 0..<c { sum[j] += result[j] }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [b, t, c], scalars: out)
    }
}

extension CausalAttention {
    /// Backward of `mix`: given `pattern` `[B, H, T, T]`, `v` `[B, T, H, D]` and the gradient of z
    /// `[B, T, H, D]`, returns the gradient of the whole pattern (`dZ·Vᵀ`, every entry, masked ones
    /// included) and of v (`Pᵀ·dZ`).
    public static func mixBackward(pattern: Tensor, value v: Tensor, zGradient dz: Tensor) -> (pattern: Tensor, value: Tensor) {
        Tensor.requireLayouts("mixBackward", pattern, v, dz)
        precondition(isHeadLayout(v), "mixBackward: v \(v.shape) must be [B, T, H, D] with every extent ≥ 1")
        let (b, t, h, d) = (v.shape[0], v.shape[1], v.shape[2], v.shape[3])
        precondition(pattern.shape == [b, h, t, t], "mixBackward: pattern \(pattern.shape), expected \([b, h, t, t])")
        precondition(dz.shape == v.shape, "mixBackward: z gradient \(dz.shape), expected \(v.shape)")
        let c = h * d
        var dv = [Float](repeating: 0, count: v.count)
        let dp = uninitializedScalars(pattern.count) { out in
            pattern.scalars.withUnsafeBufferPointer { pp in
                v.scalars.withUnsafeBufferPointer { vp in
                    dz.scalars.withUnsafeBufferPointer { dzp in
                        dv.withUnsafeMutableBufferPointer { dvp in
                            parallelChunks(count: b * h) { pairs in
                                for pair in pairs {
                                    let (batch, head) = (pair / h, pair % h)
                                    let offset = batch * t * c + head * d
                                    let square = (batch * h + head) * t * t
                                    BLAS.sgemm(
                                        transposeA: false, transposeB: true, m: t, n: t, k: d,
                                        a: dzp.baseAddress! + offset, lda: c, b: vp.baseAddress! + offset, ldb: c,
                                        c: out + square, ldc: t)
                                    BLAS.sgemm(
                                        transposeA: true, transposeB: false, m: t, n: d, k: t,
                                        a: pp.baseAddress! + square, lda: t, b: dzp.baseAddress! + offset, ldb: c,
                                        beta: 1, c: dvp.baseAddress! + offset, ldc: c)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(uncheckedShape: pattern.shape, scalars: dp), Tensor(uncheckedShape: v.shape, scalars: dv))
    }

    /// Backward of `pattern`: softmax rows, `dS = P ⊙ (dP − Σ_k P·dP)`; masked entries get 0.
    public static func patternBackward(pattern: Tensor, patternGradient dp: Tensor) -> Tensor {
        Tensor.requireLayouts("patternBackward", pattern, dp)
        precondition(
            pattern.rank == 4 && pattern.shape[2] == pattern.shape[3],
            "patternBackward: pattern \(pattern.shape) must be [B, H, T, T]")
        precondition(dp.shape == pattern.shape, "patternBackward: pattern gradient \(dp.shape), expected \(pattern.shape)")
        let t = pattern.shape[3]
        let rows = pattern.count / max(1, t)
        let result = uninitializedScalars(pattern.count) { out in
            pattern.scalars.withUnsafeBufferPointer { pp in
                dp.scalars.withUnsafeBufferPointer { dpp in
                    let p = pp.baseAddress!, g = dpp.baseAddress!
                    parallelChunks(count: rows, minimumChunk: 256) { range in
                        for row in range {
                            let offset = row &* t
                            let (probability, gradient, result) = (p + offset, g + offset, out + offset)
                            var dot: Float = 0
                            for j in 0..<t { dot += probability[j] * gradient[j] }
                            for j in 0..<t { result[j] = probability[j] * (gradient[j] - dot) }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: pattern.shape, scalars: result)
    }

    /// Backward of `scores`: given q, k `[B, T, H, D]` and the scores gradient `[B, H, T, T]`
    /// (zero where masked), returns dQ = scale·dS·K and dK = scale·dSᵀ·Q.
    public static func scoresBackward(query q: Tensor, key k: Tensor, scale: Float, scoresGradient ds: Tensor) -> (query: Tensor, key: Tensor) {
        Tensor.requireLayouts("scoresBackward", q, k, ds)
        precondition(
            isHeadLayout(q) && k.shape == q.shape,
            "scoresBackward: q \(q.shape) and k \(k.shape) must both be one [B, T, H, D] with every extent ≥ 1")
        let (b, t, h, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        precondition(ds.shape == [b, h, t, t], "scoresBackward: scores gradient \(ds.shape), expected \([b, h, t, t])")
        let c = h * d
        var dq = [Float](repeating: 0, count: q.count)
        var dk = [Float](repeating: 0, count: k.count)
        q.scalars.withUnsafeBufferPointer { qp in
            k.scalars.withUnsafeBufferPointer { kp in
                ds.scalars.withUnsafeBufferPointer { dsp in
                    dq.withUnsafeMutableBufferPointer { dqp in
                        dk.withUnsafeMutableBufferPointer { dkp in
                            parallelChunks(count: b * h) { pairs in
                                for pair in pairs {
                                    let (batch, head) = (pair / h, pair % h)
                                    let offset = batch * t * c + head * d
                                    let square = dsp.baseAddress! + (batch * h + head) * t * t
                                    BLAS.sgemm(
                                        transposeA: false, transposeB: false, m: t, n: d, k: t, alpha: scale,
                                        a: square, lda: t, b: kp.baseAddress! + offset, ldb: c,
                                        c: dqp.baseAddress! + offset, ldc: c)
                                    BLAS.sgemm(
                                        transposeA: true, transposeB: false, m: t, n: d, k: t, alpha: scale,
                                        a: square, lda: t, b: qp.baseAddress! + offset, ldb: c,
                                        c: dkp.baseAddress! + offset, ldc: c)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(uncheckedShape: q.shape, scalars: dq), Tensor(uncheckedShape: k.shape, scalars: dk))
    }

    /// Backward of `headResults`: given z `[B, T, H, D]`, W_O `[H·D, C]` and the results gradient
    /// `[B, T, H, C]`, accumulates into `weightGradient` `[H·D, C]` and returns dz.
    public static func headResultsBackward(z: Tensor, outputWeight: Tensor, resultsGradient dr: Tensor, weightGradient: inout Tensor) -> Tensor {
        Tensor.requireLayouts("headResultsBackward", z, outputWeight, dr, weightGradient)
        precondition(isHeadLayout(z), "headResultsBackward: z \(z.shape) must be [B, T, H, D] with every extent ≥ 1")
        let (b, t, h, d) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3])
        precondition(
            outputWeight.rank == 2 && outputWeight.shape[0] == h * d,
            "headResultsBackward: W_O \(outputWeight.shape), expected [\(h * d), C]")
        let c = outputWeight.shape[1]
        precondition(dr.shape == [b, t, h, c], "headResultsBackward: results gradient \(dr.shape), expected \([b, t, h, c])")
        precondition(
            weightGradient.shape == outputWeight.shape,
            "headResultsBackward: weight gradient \(weightGradient.shape), expected \(outputWeight.shape)")
        let rows = b * t
        var dz = [Float](repeating: 0, count: z.count)
        z.scalars.withUnsafeBufferPointer { zp in
            outputWeight.scalars.withUnsafeBufferPointer { wp in
                dr.scalars.withUnsafeBufferPointer { drp in
                    dz.withUnsafeMutableBufferPointer { dzp in
                        weightGradient.scalars.withUnsafeMutableBufferPointer { dwp in
                            for head in 0..<h {
                                BLAS.sgemm(
                                    transposeA: false, transposeB: true, m: rows, n: d, k: c,
                                    a: drp.baseAddress! + head * c, lda: h * c, b: wp.baseAddress! + head * d * c, ldb: c,
                                    c: dzp.baseAddress! + head * d, ldc: h * d)
                                BLAS.sgemm(
                                    transposeA: true, transposeB: false, m: d, n: c, k: rows,
                                    a: zp.baseAddress! + head * d, lda: h * d, b: drp.baseAddress! + head * c, ldb: h * c,
                                    beta: 1, c: dwp.baseAddress! + head * d * c, ldc: c)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: z.shape, scalars: dz)
    }
}

/// Whether `x` has the `[B, T, H, D]` layout of q, k, v and z with every extent at least 1.
private func isHeadLayout(_ x: Tensor) -> Bool {
    x.rank == 4 && x.shape.allSatisfy { $0 > 0 }
}

/// Softmax of the first `visible` values of a row of `width`; the rest of the row becomes 0.
/// A row whose visible values are all `-∞` becomes all zeros rather than NaN.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, visible: Int, width: Int) {
    var maximum = -Float.infinity
    for j in 0..<visible where x[j] > maximum { maximum = x[j] }
    if maximum == -.infinity {
        out.initialize(repeating: 0, count: width)
        return
    }
    let shift = FloatVector(repeating: maximum)
    mapVectorized(x, out, range: 0..<visible, vector: { vectorExp($0 - shift) }, scalar: { expf($0 - maximum) })
    var sum: Float = 0
    for j in 0..<visible { sum += out[j] }
    let inverse = 1 / sum
    for j in 0..<visible { out[j] *= inverse }
    if visible < width { (out + visible).initialize(repeating: 0, count: width - visible) }
}
