import COpenBLAS
import Foundation

/// Every call into OpenBLAS goes through this file.
///
/// Matrices are row-major. `lda`, `ldb`, `ldc` are row strides in elements, so a matrix can be a
/// strided view into a larger buffer (e.g. one head's columns of a `[T, H·D]` activation).
enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` with `op(A)` `[m, k]`, `op(B)` `[k, n]`, `C` `[m, n]`.
    @inline(__always)
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `parallelChunks` for loops each of whose iterations makes small products (one attention head
    /// each): OpenBLAS runs on one thread meanwhile, since its own threads would only queue behind
    /// the loop's (a call waits for the whole pool) and each product is too small to split. Call it
    /// from one thread at a time; the earlier thread count is restored.
    static func parallelProducts(count: Int, _ body: (Range<Int>) -> Void) {
        let previous = openblas_get_num_threads()
        guard previous > 1 else { return parallelChunks(count: count, body) }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        parallelChunks(count: count, body)
    }

    /// `y += alpha · x` over `n` values.
    @inline(__always)
    static func saxpy(n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    /// `y = A · x` with `A` `[m, n]` (row stride `lda`), `x` `[n]`, `y` `[m]`.
    @inline(__always)
    static func sgemv(m: Int, n: Int, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(lda), x, 1, 0, y, 1)
    }

    /// `x · y` over `n` contiguous values.
    @inline(__always)
    static func sdot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// Index of the first of `n` contiguous values with the smallest magnitude.
    @inline(__always)
    static func isamin(n: Int, x: UnsafePointer<Float>) -> Int {
        Int(cblas_isamin(Int32(n), x, 1))
    }

    /// Number of threads OpenBLAS uses.
    static var threadCount: Int { Int(openblas_get_num_threads()) }
}

/// Raw single-precision matrix-multiply throughput of this machine's OpenBLAS.
public enum SgemmProbe {
    /// Times `repetitions` products `[m, k]·[k, n]` (after one warm-up) and returns the best
    /// rate in GFLOP/s (2·m·n·k floating-point operations per product). Every argument must be ≥ 1.
    public static func gflops(m: Int, n: Int, k: Int, repetitions: Int = 3) -> Double {
        precondition(
            m >= 1 && n >= 1 && k >= 1 && repetitions >= 1,
            "SgemmProbe.gflops: m \(m), n \(n), k \(k) and repetitions \(repetitions) must all be ≥ 1")
        var rng = SeededRandom(seed: 1)
        let a = (0..<(m * k)).map { _ in rng.nextUniform() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextUniform() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        var best = Double.infinity
        for repetition in 0...repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: m, n: n, k: k,
                            a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if repetition > 0 { best = min(best, seconds) }
        }
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// Threads OpenBLAS runs with.
    public static var threads: Int { BLAS.threadCount }
}
