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
        for i in scalars.indices { scalars[i] *= factor }
    }

    /// Splits the last dimension into `parts` equal tensors (e.g. a fused `[B, T, 3C]` q/k/v
    /// projection into three `[B, T, C]`).
    public func splitLastDimension(into parts: Int) throws -> [Tensor] {
        guard let last = shape.last, parts > 0, last % parts == 0 else {
            throw CoreError.incompatibleShapes(operation: "splitLastDimension", detail: "\(shape) into \(parts)")
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
        precondition(!parts.isEmpty)
        let leading = Array(parts[0].shape.dropLast())
        let widths = parts.map { $0.shape[$0.rank - 1] }
        precondition(parts.allSatisfy { Array($0.shape.dropLast()) == leading })
        let total = widths.reduce(0, +)
        let rows = leading.reduce(1, *)
        var result = [Float](repeating: 0, count: rows * total)
        var offset = 0
        for (part, width) in zip(parts, widths) {
            for row in 0..<rows {
                result.replaceSubrange((row * total + offset)..<(row * total + offset + width),
                                       with: part.scalars[(row * width)..<((row + 1) * width)])
            }
            offset += width
        }
        return Tensor(uncheckedShape: leading + [total], scalars: result)
    }
}
