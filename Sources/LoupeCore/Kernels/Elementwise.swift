// Element-wise arithmetic on tensors of one shape.

extension Tensor {
    /// Element-wise sum of two tensors of the same shape.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "+: shapes \(lhs.shape) and \(rhs.shape) differ")
        var result = lhs
        result.add(rhs)
        return result
    }

    /// Adds `other` (same shape) into `self`.
    public mutating func add(_ other: Tensor) {
        Tensor.requireLayouts("add", self, other)
        precondition(shape == other.shape, "add: shapes \(shape) and \(other.shape) differ")
        let n = count
        scalars.withUnsafeMutableBufferPointer { y in
            other.scalars.withUnsafeBufferPointer { x in
                BLAS.saxpy(n: n, alpha: 1, x: x.baseAddress!, y: y.baseAddress!)
            }
        }
    }

    /// Multiplies every value by `factor`.
    public mutating func scale(by factor: Float) {
        let n = count
        scalars.withUnsafeMutableBufferPointer { x in
            let values = x.baseAddress!
            for i in 0..<n { values[i] *= factor }
        }
    }

    /// Splits the last dimension into `parts` equal tensors (e.g. a fused `[B, T, 3C]` q/k/v
    /// projection into three `[B, T, C]`).
    public func splitLastDimension(into parts: Int) throws -> [Tensor] {
        try Tensor.checkLayouts("splitLastDimension", self)
        guard let last = shape.last, parts > 0, last % parts == 0 else {
            throw CoreError.incompatibleShapes(
                operation: "splitLastDimension",
                detail: "the last dimension of \(shape) does not split into \(parts) equal parts (parts must be ≥ 1)")
        }
        let width = last / parts
        let rows = count / max(1, last)
        let outShape = Array(shape.dropLast()) + [width]
        return (0..<parts).map { part in
            let values = uninitializedScalars(rows * width) { out in
                scalars.withUnsafeBufferPointer { x in
                    for row in 0..<rows {
                        (out + row * width).initialize(from: x.baseAddress! + row * last + part * width, count: width)
                    }
                }
            }
            return Tensor(uncheckedShape: outShape, scalars: values)
        }
    }

    /// Joins tensors of equal leading shape along the last dimension (the inverse of
    /// `splitLastDimension`): `[N…, A]`, `[N…, B]`, … → `[N…, A + B + …]`.
    public static func concatenateLastDimension(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatenateLastDimension needs at least one tensor")
        for part in parts { Tensor.requireLayouts("concatenateLastDimension", part) }
        let leading = Array(parts[0].shape.dropLast())
        precondition(
            parts.allSatisfy { $0.rank >= 1 && Array($0.shape.dropLast()) == leading },
            "concatenateLastDimension: shapes \(parts.map(\.shape)) differ before the last dimension (or are scalars)")
        let widths = parts.map { $0.shape[$0.rank - 1] }
        let total = widths.reduce(0, +)
        let rows = leading.reduce(1, *)
        let result = uninitializedScalars(rows * total) { out in
            var offset = 0
            for (part, width) in zip(parts, widths) {
                part.scalars.withUnsafeBufferPointer { source in
                    for row in 0..<rows {
                        (out + row * total + offset).initialize(from: source.baseAddress! + row * width, count: width)
                    }
                }
                offset += width
            }
        }
        return Tensor(uncheckedShape: leading + [total], scalars: result)
    }
}
