/// A dense Float32 tensor in row-major order.
///
/// `shape` lists the extent of each dimension, outermost first; `scalars` holds
/// `shape.reduce(1, *)` values with the last dimension contiguous. Value semantics:
/// copies share storage until one is mutated.
public struct Tensor: Equatable, Sendable {
    /// Extent of each dimension, outermost first (e.g. `[B, T, C]`).
    public private(set) var shape: [Int]
    /// The values, row-major: as many as the product of `shape` (kernels refuse a tensor whose
    /// values were resized).
    public var scalars: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:repeating:): shape \(shape) has a negative dimension")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of the given shape over existing values; `scalars.count` must equal the shape's product.
    public init(shape: [Int], scalars: [Float]) throws {
        if let problem = Self.problem(shape: shape, count: scalars.count) {
            throw CoreError.incompatibleShapes(operation: "Tensor(shape:scalars:)", detail: problem)
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Builds a tensor whose shape is known to match (internal use by kernels).
    init(uncheckedShape shape: [Int], scalars: [Float]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// Number of values a tensor of `shape` holds, or `nil` when a dimension is negative or the
    /// product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for extent in shape {
            guard extent >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: extent)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// Why `shape` cannot hold `count` values, or `nil` when it can.
    private static func problem(shape: [Int], count: Int) -> String? {
        guard let needed = elementCount(shape) else {
            return "shape \(shape) has a negative dimension or too many values"
        }
        return needed == count ? nil : "shape \(shape) needs \(needed) values, found \(count)"
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
        if let problem = Self.problem(shape: newShape, count: scalars.count) {
            throw CoreError.incompatibleShapes(operation: "reshape", detail: "from \(shape): \(problem)")
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
        for (a, b) in zip(scalars, other.scalars) {
            let d = abs(a - b)
            if d > worst || d.isNaN { worst = d.isNaN ? .infinity : d }
        }
        return worst
    }
}

extension Tensor {
    /// Throws `CoreError.incompatibleShapes` when one of `tensors` does not hold the values its
    /// shape describes. `scalars` is writable, so a caller can resize it; kernels check their
    /// operands once with this (or `requireLayouts`) before reading them through pointers.
    static func checkLayouts(_ operation: String, _ tensors: Tensor?...) throws {
        for case let tensor? in tensors {
            if let problem = problem(shape: tensor.shape, count: tensor.count) {
                throw CoreError.incompatibleShapes(operation: operation, detail: problem)
            }
        }
    }

    /// `checkLayouts` for functions that do not throw: stops the program instead.
    static func requireLayouts(_ operation: String, _ tensors: Tensor?...) {
        for case let tensor? in tensors {
            if let problem = problem(shape: tensor.shape, count: tensor.count) { preconditionFailure("\(operation): \(problem)") }
        }
    }
}
