// Small dense linear algebra in double precision on square matrices: orthonormal columns and the
// eigenvectors of a symmetric matrix. Sizes are a hook point's width (d ≤ a few thousand), so these
// run in Swift; the large products stay in OpenBLAS.

/// Orthogonal `[d, d]` matrices: QR retraction, Haar-random draws, and how far a matrix is from orthogonal.
public enum OrthogonalMatrix {
    /// The Q factor of `matrix` `[d, d]` whose R factor has a non-negative diagonal (so a matrix
    /// already orthogonal is returned unchanged, to rounding): Gram–Schmidt on the columns in order,
    /// each column orthogonalised twice, in double precision. A column that vanishes (a singular
    /// input) is replaced by the first standard basis vector orthogonal to the previous ones.
    public static func retract(_ matrix: Tensor) -> Tensor {
        precondition(matrix.rank == 2 && matrix.shape[0] == matrix.shape[1], "retract: a square matrix, got \(matrix.shape)")
        let d = matrix.shape[0]
        // Row j of `columns` is column j of the matrix.
        var columns = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { columns[j * d + i] = Double(matrix.scalars[i * d + j]) } }
        columns.withUnsafeMutableBufferPointer { buffer in
            let q = buffer.baseAddress!
            for j in 0..<d {
                let column = q + j * d
                for _ in 0..<2 { subtractProjections(column, onto: q, count: j, size: d) }
                var norm = squaredNorm(column, size: d).squareRoot()
                if norm < 1e-12 {
                    for basis in 0..<d {
                        for i in 0..<d { column[i] = i == basis ? 1 : 0 }
                        for _ in 0..<2 { subtractProjections(column, onto: q, count: j, size: d) }
                        norm = squaredNorm(column, size: d).squareRoot()
                        if norm > 0.5 { break }
                    }
                }
                for i in 0..<d { column[i] /= norm }
            }
        }
        var result = Tensor(shape: [d, d])
        for j in 0..<d { for i in 0..<d { result.scalars[i * d + j] = Float(columns[j * d + i]) } }
        return result
    }

    /// Subtracts from `column` its projections on the first `count` (orthonormal) rows of `basis`.
    private static func subtractProjections(_ column: UnsafeMutablePointer<Double>, onto basis: UnsafePointer<Double>, count: Int, size d: Int) {
        for b in 0..<count {
            let vector = basis + b * d
            var dot = 0.0
            for i in 0..<d { dot += column[i] * vector[i] }
            for i in 0..<d { column[i] -= dot * vector[i] }
        }
    }

    private static func squaredNorm(_ column: UnsafePointer<Double>, size d: Int) -> Double {
        var sum = 0.0
        for i in 0..<d { sum += column[i] * column[i] }
        return sum
    }

    /// A random orthogonal `[d, d]` matrix, uniform over the orthogonal group (Haar): the Q factor
    /// (non-negative R diagonal) of a matrix of standard normal values drawn from `rng`.
    public static func random(size d: Int, rng: inout SeededRandom) -> Tensor {
        var gaussian = Tensor(shape: [d, d])
        for i in 0..<(d * d) { gaussian.scalars[i] = rng.nextNormal() }
        return retract(gaussian)
    }

    /// The identity `[d, d]`.
    public static func identity(size d: Int) -> Tensor {
        var result = Tensor(shape: [d, d])
        for i in 0..<d { result.scalars[i * d + i] = 1 }
        return result
    }

    /// `max |(QᵀQ − I)ᵢⱼ|` of `matrix` `[d, d]`, computed in double precision.
    public static func deviation(_ matrix: Tensor) -> Double {
        precondition(matrix.rank == 2 && matrix.shape[0] == matrix.shape[1], "deviation: a square matrix, got \(matrix.shape)")
        let d = matrix.shape[0]
        var worst = 0.0
        for a in 0..<d {
            for b in a..<d {
                var dot = 0.0
                for i in 0..<d { dot += Double(matrix.scalars[i * d + a]) * Double(matrix.scalars[i * d + b]) }
                worst = max(worst, abs(dot - (a == b ? 1 : 0)))
            }
        }
        return worst
    }
}

/// Eigenvalues and eigenvectors of a symmetric matrix, by cyclic Jacobi rotations in double precision.
public enum SymmetricEigen {
    /// `matrix` `[d, d]` (row-major, symmetric) → eigenvalues in decreasing order `[d]` and the
    /// matching unit eigenvectors as the columns of `vectors` `[d, d]` (row-major). Each eigenvector's
    /// sign is fixed so that its largest-magnitude entry is positive.
    public static func decompose(_ matrix: [Double], size d: Int) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == d * d, "decompose: \(matrix.count) values for a [\(d), \(d)] matrix")
        var a = matrix
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        let scale = max(a.reduce(0) { max($0, abs($1)) }, Double.leastNormalMagnitude)
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<max(p + 1, d) { off = max(off, abs(a[p * d + q])) } }
            if off <= 1e-15 * scale { break }
            for p in 0..<d {
                for q in (p + 1)..<max(p + 1, d) where a[p * d + q] != 0 {
                    let apq = a[p * d + q]
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let apk = a[p * d + k], aqk = a[q * d + k]
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<d).sorted { a[$0 * d + $0] == a[$1 * d + $1] ? $0 < $1 : a[$0 * d + $0] > a[$1 * d + $1] }
        var vectors = [Double](repeating: 0, count: d * d)
        for (column, source) in order.enumerated() {
            var largest = 0.0
            for k in 0..<d where abs(v[k * d + source]) > abs(largest) { largest = v[k * d + source] }
            let sign = largest < 0 ? -1.0 : 1.0
            for k in 0..<d { vectors[k * d + column] = sign * v[k * d + source] }
        }
        return (order.map { a[$0 * d + $0] }, vectors)
    }
}
