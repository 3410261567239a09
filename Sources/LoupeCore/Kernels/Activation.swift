#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise non-linearities of transformer MLPs.
public enum Activation: String, Sendable, CaseIterable {
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (Hugging Face `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`).
    case geluTanh
    /// `0.5·x·(1 + erf(x/√2))` (Hugging Face `gelu`).
    case geluErf
    /// `max(0, x)`.
    case relu
    /// `x·σ(x)` (Hugging Face `silu` / `swish`).
    case silu

    /// Applies the activation to one value (the reference form used by tests).
    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .geluTanh:
            let u = 0.797_884_56 * (x + 0.044_715 * x * x * x)
            return 0.5 * x * (1 + fastTanh(u))
        case .geluErf:
            return 0.5 * x * (1 + erff(x * 0.707_106_77))
        case .relu:
            return max(0, x)
        case .silu:
            return x / (1 + expf(-x))
        }
    }
}

extension Activation {
    /// The derivative of the activation at `x`.
    @inline(__always)
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .geluTanh:
            let inner = 0.797_884_56 * (x + 0.044_715 * x * x * x)
            let t = fastTanh(inner)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.797_884_56 * (1 + 3 * 0.044_715 * x * x)
        case .geluErf:
            return 0.5 * (1 + erff(x * 0.707_106_77)) + x * expf(-0.5 * x * x) * 0.398_942_28
        case .relu:
            return x > 0 ? 1 : 0
        case .silu:
            let sigmoid = 1 / (1 + expf(-x))
            return sigmoid * (1 + x * (1 - sigmoid))
        }
    }
}

/// `tanh(u)` as `1 − 2/(e^{2u} + 1)`: one `expf`, exact limits ±1, absolute error below 1e-7.
@inline(__always)
func fastTanh(_ u: Float) -> Float {
    1 - 2 / (expf(2 * u) + 1)
}

/// The tanh form of GELU on 8 lanes (same formula as `Activation.geluTanh`).
@inline(__always)
func vectorGeluTanh(_ x: FloatVector) -> FloatVector {
    let u = 0.797_884_56 * (x + 0.044_715 * x * x * x)
    let tanh = 1 - 2 / (vectorExp(2 * u) + 1)
    return 0.5 * x * (1 + tanh)
}

/// The derivative of the tanh form of GELU on 8 lanes (same formula as `Activation.derivative`).
@inline(__always)
func vectorGeluTanhDerivative(_ x: FloatVector) -> FloatVector {
    let u = 0.797_884_56 * (x + 0.044_715 * x * x * x)
    let tanh: FloatVector = 1 - 2 / (vectorExp(2 * u) + 1)
    let slope: FloatVector = 0.797_884_56 * (1 + 3 * 0.044_715 * x * x)
    let outer: FloatVector = 0.5 * x * (1 - tanh * tanh)
    return 0.5 * (1 + tanh) + outer * slope
}

/// SiLU on 8 lanes.
@inline(__always)
func vectorSilu(_ x: FloatVector) -> FloatVector {
    x / (1 + vectorExp(-x))
}

/// The derivative of SiLU on 8 lanes.
@inline(__always)
func vectorSiluDerivative(_ x: FloatVector) -> FloatVector {
    let sigmoid = 1 / (1 + vectorExp(-x))
    return sigmoid * (1 + x * (1 - sigmoid))
}

extension Tensor {
    /// The activation applied to every value (same shape).
    public func applying(_ activation: Activation) -> Tensor {
        let n = count
        let result = uninitializedScalars(n) { out in
            scalars.withUnsafeBufferPointer { x in
                let xp = x.baseAddress!
                parallelChunks(count: n, minimumChunk: 16_384) { range in
                    switch activation {
                    case .geluTanh:
                        mapVectorized(xp, out, range: range, vector: vectorGeluTanh, scalar: Activation.geluTanh.callAsFunction)
                    case .geluErf: for i in range { out[i] = Activation.geluErf(xp[i]) }
                    case .relu: for i in range { out[i] = max(0, xp[i]) }
                    case .silu:
                        mapVectorized(xp, out, range: range, vector: vectorSilu, scalar: Activation.silu.callAsFunction)
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
    }

    /// Backward of `applying(activation)` with `self` the forward input: output gradient times the
    /// derivative at each input (same shape).
    public func activationBackward(_ activation: Activation, outputGradient: Tensor) -> Tensor {
        Tensor.requireLayouts("activationBackward", self, outputGradient)
        precondition(
            outputGradient.shape == shape, "activationBackward: output gradient \(outputGradient.shape), expected \(shape)")
        let n = count
        let result = uninitializedScalars(n) { out in
            scalars.withUnsafeBufferPointer { x in
                outputGradient.scalars.withUnsafeBufferPointer { dy in
                    let xp = x.baseAddress!, dyp = dy.baseAddress!
                    parallelChunks(count: n, minimumChunk: 16_384) { range in
                        switch activation {
                        case .geluTanh:
                            mapVectorized(xp, dyp, out, range: range, vector: { $1 * vectorGeluTanhDerivative($0) }, scalar: {
                                $1 * Activation.geluTanh.derivative($0)
                            })
                        case .silu:
                            mapVectorized(xp, dyp, out, range: range, vector: { $1 * vectorSiluDerivative($0) }, scalar: {
                                $1 * Activation.silu.derivative($0)
                            })
                        case .geluErf, .relu:
                            for i in range { out[i] = dyp[i] * activation.derivative(xp[i]) }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
    }
}
