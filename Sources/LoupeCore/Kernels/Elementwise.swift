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
}
