/// A dense Float32 tensor in row-major order.
///
/// `shape` lists the extent of each dimension, outermost first; `scalars` holds
/// `shape.reduce(1, *)` values with the last dimension contiguous. Value semantics:
/// copies share storage until one is mutated.
public struct Tensor: Equatable, Sendable {
    /// Extent of each dimension, outermost first (e.g. `[B, T, C]`).
    public private(set) var shape: [Int]
    /// The values, row-major, `count` of them.
    public var scalars: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of the given shape over existing values; `scalars.count` must equal the shape's product.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
            throw CoreError.incompatibleShapes(
                operation: "Tensor(shape:scalars:)",
                detail: "shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Builds a tensor whose shape is known to match (internal use by kernels).
    init(uncheckedShape shape: [Int], scalars: [Float]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// Number of values.
    public var count: Int { scalars.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same values seen with another shape of equal product.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, scalars: scalars)
    }

    /// Replaces the shape with one of equal product, keeping the values.
    public mutating func reshape(_ newShape: [Int]) throws {
        guard newShape.reduce(1, *) == scalars.count else {
            throw CoreError.incompatibleShapes(
                operation: "reshape", detail: "\(shape) has \(scalars.count) values, \(newShape) needs \(newShape.reduce(1, *))")
        }
        shape = newShape
    }

    /// Sub-tensor `index` along the first dimension (shape drops its first entry).
    public func slice(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "slice \(index) out of range for shape \(shape)")
        let inner = Array(shape.dropFirst())
        let size = inner.reduce(1, *)
        return Tensor(uncheckedShape: inner, scalars: Array(scalars[(index * size)..<((index + 1) * size)]))
    }

    /// Largest absolute difference to another tensor of the same shape.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: shapes \(shape) and \(other.shape) differ")
        var worst: Float = 0
        for i in 0..<scalars.count {
            let d = abs(scalars[i] - other.scalars[i])
            if d > worst || d.isNaN { worst = d.isNaN ? .infinity : d }
        }
        return worst
    }
}
