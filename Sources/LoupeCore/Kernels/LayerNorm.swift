// Layer normalisation over the last dimension. Shape legend: N rows, C channels.

extension Tensor {
    /// `(x − mean) / sqrt(var + ε) · weight + bias` over the last dimension.
    ///
    /// `self` `[..., C]`, `weight` `[C]`, `bias` `[C]` → `[..., C]`. The variance is the biased one
    /// (divided by C), as in PyTorch's `LayerNorm`.
    public func layerNorm(weight: Tensor, bias: Tensor, epsilon: Float) throws -> Tensor {
        guard let channels = shape.last, channels > 0, weight.shape == [channels], bias.shape == [channels] else {
            throw CoreError.incompatibleShapes(
                operation: "layerNorm", detail: "input \(shape), weight \(weight.shape), bias \(bias.shape)")
        }
        let rows = count / channels
        let result = uninitializedScalars(count) { out in
            scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    bias.scalars.withUnsafeBufferPointer { b in
                        let xp = x.baseAddress!, wp = w.baseAddress!, bp = b.baseAddress!
                        parallelChunks(count: rows, minimumChunk: 64) { range in
                            for row in range {
                                layerNormRow(
                                    xp + row * channels, out + row * channels,
                                    wp, bp, channels: channels, epsilon: epsilon)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
    }
}

/// Normalises one row of `channels` values from `x` into `out`.
@inline(__always)
func layerNormRow(
    _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, channels: Int, epsilon: Float
) {
    var sum: Float = 0
    for c in 0..<channels { sum += x[c] }
    let mean = sum / Float(channels)
    var squares: Float = 0
    for c in 0..<channels {
        let d = x[c] - mean
        squares += d * d
    }
    let rstd = 1 / (squares / Float(channels) + epsilon).squareRoot()
    for c in 0..<channels {
        out[c] = (x[c] - mean) * rstd * weight[c] + bias[c]
    }
}
