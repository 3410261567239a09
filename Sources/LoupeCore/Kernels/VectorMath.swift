// Vectorised transcendental functions for the element-wise kernels.

/// Lanes processed together by the vectorised kernels.
typealias FloatVector = SIMD8<Float>

/// `e^x` for each lane: range reduction `x = n·ln2 + r`, a degree-6 polynomial for `e^r`
/// (Cephes `expf` coefficients, relative error about 1e-7), then scaling by `2^n` through the
/// exponent bits. Inputs below -87.3 (including `-∞`) give 0; inputs above 88.7 give `e^88.7`.
@inline(__always)
func vectorExp(_ x: FloatVector) -> FloatVector {
    let low = x.replacing(with: -87.3, where: x .< -87.3)
    let clamped = low.replacing(with: 88.7, where: low .> 88.7)
    // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits.
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = FloatVector(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * r * r + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: FloatVector.self)
    return (p * scale).replacing(with: 0, where: x .< -87.3)
}

/// Applies `vector` to full 8-lane groups of `input[range]` and `scalar` to the rest, writing
/// into `output` at the same indices.
@inline(__always)
func mapVectorized(
    _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, range: Range<Int>,
    vector: (FloatVector) -> FloatVector, scalar: (Float) -> Float
) {
    var i = range.lowerBound
    let width = FloatVector.scalarCount
    while i &+ width <= range.upperBound {
        let loaded = UnsafeRawPointer(input + i).loadUnaligned(as: FloatVector.self)
        UnsafeMutableRawPointer(output + i).storeBytes(of: vector(loaded), as: FloatVector.self)
        i &+= width
    }
    while i < range.upperBound {
        output[i] = scalar(input[i])
        i &+= 1
    }
}

/// Applies `vector` to full 8-lane groups of `first[range]` and `second[range]` together and
/// `scalar` to the rest, writing into `output` at the same indices.
@inline(__always)
func mapVectorized(
    _ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, range: Range<Int>,
    vector: (FloatVector, FloatVector) -> FloatVector, scalar: (Float, Float) -> Float
) {
    var i = range.lowerBound
    let width = FloatVector.scalarCount
    while i &+ width <= range.upperBound {
        let a = UnsafeRawPointer(first + i).loadUnaligned(as: FloatVector.self)
        let b = UnsafeRawPointer(second + i).loadUnaligned(as: FloatVector.self)
        UnsafeMutableRawPointer(output + i).storeBytes(of: vector(a, b), as: FloatVector.self)
        i &+= width
    }
    while i < range.upperBound {
        output[i] = scalar(first[i], second[i])
        i &+= 1
    }
}
