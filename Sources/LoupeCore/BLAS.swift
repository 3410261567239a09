import COpenBLAS
import Foundation

/// Every call into OpenBLAS goes through this file.
///
/// Matrices are row-major. `lda`, `ldb`, `ldc` are row strides in elements, so a matrix can be a
/// strided view into a larger buffer (e.g. one head's columns of a `[T, H·D]` activation).
///
/// OpenBLAS runs on one thread, and Loupe splits large products among the cores itself. OpenBLAS's
/// AVX2 kernels (Haswell, Zen) round a row of a product differently by its place in a tile of 24
/// rows and by where OpenBLAS's threads divide the rows, and its thread count would change while
/// loops of small products run on every core: its own threading made results depend on timing.
/// Loupe divides the rows at multiples of `rowAlignment`, which gives every row the bits one
/// single-threaded call gives it, whatever the number of cores.
enum BLAS {
    /// Rows are divided among the cores at multiples of this (a multiple of OpenBLAS's 16- and
    /// 24-row tiles).
    static let rowAlignment = 48
    /// Products of fewer multiply-adds run on one core.
    static let parallelProductLimit = 1 << 22

    /// OpenBLAS set to one thread, once, before the first call.
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    /// `C = alpha · op(A) · op(B) + beta · C` with `op(A)` `[m, k]`, `op(B)` `[k, n]`, `C` `[m, n]`.
    /// Large products run on every core, each a band of rows starting at a multiple of `rowAlignment`.
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        func rows(_ start: Int, _ count: Int) {
            cblas_sgemm(
                CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(count), Int32(n), Int32(k), alpha, transposeA ? a + start : a + start * lda, Int32(lda),
                b, Int32(ldb), beta, c + start * ldc, Int32(ldc))
        }
        let bands = m * n * k < parallelProductLimit ? 1 : min(ProcessInfo.processInfo.activeProcessorCount, m / rowAlignment)
        guard bands > 1 else { return rows(0, m) }
        let band = (m + bands - 1) / bands
        let size = (band + rowAlignment - 1) / rowAlignment * rowAlignment
        DispatchQueue.concurrentPerform(iterations: bands) { index in
            let start = index * size
            if start < m { rows(start, min(size, m - start)) }
        }
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

    /// Cores a large product runs on (each a band of rows; OpenBLAS itself runs on one thread).
    public static var threads: Int { ProcessInfo.processInfo.activeProcessorCount }
}
