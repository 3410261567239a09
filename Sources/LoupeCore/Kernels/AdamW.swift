#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// AdamW parameter update (decoupled weight decay, bias-corrected moments).

/// Hyper-parameters of one AdamW step.
public struct AdamWStep: Sendable {
    /// Learning rate, decay rates β₁ and β₂ of the first and second moments, ε added to √v̂, and the
    /// decoupled weight decay for this tensor (0 for biases and layer-norm parameters).
    public var learningRate, beta1, beta2, epsilon, weightDecay: Float
    /// 1-based step number, for bias correction.
    public var step: Int

    public init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, step: Int) {
        (self.learningRate, self.beta1, self.beta2, self.epsilon) = (learningRate, beta1, beta2, epsilon)
        (self.weightDecay, self.step) = (weightDecay, step)
    }
}

extension Tensor {
    /// Updates `self` (parameters) in place from `gradient`, with first and second moments `m`, `v`
    /// (all the same shape): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·(m̂/(√v̂ + ε) + λθ).
    public mutating func adamWUpdate(gradient: Tensor, m: inout Tensor, v: inout Tensor, _ s: AdamWStep) {
        Tensor.requireLayouts("adamWUpdate", self, gradient, m, v)
        precondition(
            gradient.shape == shape && m.shape == shape && v.shape == shape,
            "adamWUpdate: gradient \(gradient.shape), m \(m.shape), v \(v.shape), expected \(shape) each")
        precondition(s.step >= 1, "adamWUpdate: step \(s.step), steps count from 1")
        let correction1 = 1 - powf(s.beta1, Float(s.step))
        let correction2 = 1 - powf(s.beta2, Float(s.step))
        let n = count
        scalars.withUnsafeMutableBufferPointer { thetaBuffer in
            gradient.scalars.withUnsafeBufferPointer { gradientBuffer in
                m.scalars.withUnsafeMutableBufferPointer { mBuffer in
                    v.scalars.withUnsafeMutableBufferPointer { vBuffer in
                        let (theta, g) = (thetaBuffer.baseAddress!, gradientBuffer.baseAddress!)
                        let (mp, vp) = (mBuffer.baseAddress!, vBuffer.baseAddress!)
                        for i in 0..<n {
                            let grad = g[i]
                            let mi = s.beta1 * mp[i] + (1 - s.beta1) * grad
                            let vi = s.beta2 * vp[i] + (1 - s.beta2) * grad * grad
                            mp[i] = mi
                            vp[i] = vi
                            let update = (mi / correction1) / ((vi / correction2).squareRoot() + s.epsilon)
                            theta[i] -= s.learningRate * (update + s.weightDecay * theta[i])
                        }
                    }
                }
            }
        }
    }

    /// Sum of squares of all values (for gradient-norm clipping), accumulated in Double.
    public var sumOfSquares: Double {
        scalars.reduce(0) { $0 + Double($1) * Double($1) }
    }
}
