// Layer normalisation over the last dimension. Shape legend: N rows, C channels.

extension Tensor {
    /// `(x − mean) / sqrt(var + ε) · weight + bias` over the last dimension.
    ///
    /// `self` `[..., C]`, `weight` `[C]`, `bias` `[C]` → `[..., C]`. The variance is the biased one
    /// (divided by C), as in PyTorch's `LayerNorm`.
    public func layerNorm(weight: Tensor, bias: Tensor, epsilon: Float) throws -> Tensor {
        try layerNormWithStatistics(weight: weight, bias: bias, epsilon: epsilon).output
    }

    /// Layer norm that also returns each row's mean and reciprocal standard deviation
    /// (`[N]` each, N = rows), which `layerNormBackward` needs.
    public func layerNormWithStatistics(
        weight: Tensor, bias: Tensor, epsilon: Float
    ) throws -> (output: Tensor, mean: [Float], rstd: [Float]) {
        guard let channels = shape.last, channels > 0, weight.shape == [channels], bias.shape == [channels] else {
            throw CoreError.incompatibleShapes(
                operation: "layerNorm", detail: "input \(shape), weight \(weight.shape), bias \(bias.shape)")
        }
        let rows = count / channels
        var means = [Float](repeating: 0, count: rows)
        var rstds = [Float](repeating: 0, count: rows)
        let result = uninitializedScalars(count) { out in
            scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    bias.scalars.withUnsafeBufferPointer { b in
                        means.withUnsafeMutableBufferPointer { meanBuffer in
                            rstds.withUnsafeMutableBufferPointer { rstdBuffer in
                                let xp = x.baseAddress!, wp = w.baseAddress!, bp = b.baseAddress!
                                let mp = meanBuffer.baseAddress!, rp = rstdBuffer.baseAddress!
                                parallelChunks(count: rows, minimumChunk: 64) { range in
                                    for row in range {
                                        (mp[row], rp[row]) = layerNormRow(
                                            xp + row * channels, out + row * channels,
                                            wp, bp, channels: channels, epsilon: epsilon)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(uncheckedShape: shape, scalars: result), means, rstds)
    }

    /// Backward of `layerNorm` for input `self` `[..., C]` given the output gradient `[..., C]` and
    /// the forward pass's `mean` and `rstd` `[N]`: returns the input gradient and accumulates into
    /// `weightGradient` and `biasGradient` `[C]`.
    public func layerNormBackward(
        outputGradient: Tensor, weight: Tensor, mean: [Float], rstd: [Float],
        weightGradient: inout Tensor, biasGradient: inout Tensor
    ) -> Tensor {
        let channels = shape[rank - 1]
        let rows = count / channels
        precondition(outputGradient.shape == shape && mean.count == rows && rstd.count == rows)
        var inputGradient = [Float](repeating: 0, count: count)
        for row in 0..<rows {
            let base = row * channels
            var meanOfScaled: Float = 0, meanOfScaledTimesNorm: Float = 0
            for c in 0..<channels {
                let norm = (scalars[base + c] - mean[row]) * rstd[row]
                let scaled = outputGradient.scalars[base + c] * weight.scalars[c]
                meanOfScaled += scaled
                meanOfScaledTimesNorm += scaled * norm
            }
            meanOfScaled /= Float(channels)
            meanOfScaledTimesNorm /= Float(channels)
            for c in 0..<channels {
                let norm = (scalars[base + c] - mean[row]) * rstd[row]
                let gradient = outputGradient.scalars[base + c]
                weightGradient.scalars[c] += gradient * norm
                biasGradient.scalars[c] += gradient
                let scaled = gradient * weight.scalars[c]
                inputGradient[base + c] = (scaled - meanOfScaled - norm * meanOfScaledTimesNorm) * rstd[row]
            }
        }
        return Tensor(uncheckedShape: shape, scalars: inputGradient)
    }
}

/// Normalises one row of `channels` values from `x` into `out`; returns its mean and 1/std.
@inline(__always)
func layerNormRow(
    _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, channels: Int, epsilon: Float
) -> (Float, Float) {
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
    return (mean, rstd)
}
