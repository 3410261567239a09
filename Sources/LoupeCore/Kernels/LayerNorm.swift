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
        try Tensor.checkLayouts("layerNorm", self, weight, bias)
        guard let channels = shape.last, channels > 0 else {
            throw CoreError.incompatibleShapes(operation: "layerNorm", detail: "input \(shape) needs [..., C] with C ≥ 1")
        }
        guard weight.shape == [channels], bias.shape == [channels] else {
            throw CoreError.incompatibleShapes(
                operation: "layerNorm", detail: "weight \(weight.shape) and bias \(bias.shape), expected [\(channels)] each")
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
                                            xp + row &* channels, out + row &* channels,
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
        Tensor.requireLayouts("layerNormBackward", self, outputGradient, weight, weightGradient, biasGradient)
        precondition(rank >= 1 && shape[rank - 1] > 0, "layerNormBackward: input \(shape) needs [..., C] with C ≥ 1")
        let channels = shape[rank - 1]
        let rows = count / channels
        precondition(
            outputGradient.shape == shape,
            "layerNormBackward: output gradient \(outputGradient.shape), expected \(shape)")
        precondition(
            weight.shape == [channels] && weightGradient.shape == [channels] && biasGradient.shape == [channels],
            "layerNormBackward: weight \(weight.shape), weight gradient \(weightGradient.shape), bias gradient \(biasGradient.shape), expected [\(channels)] each")
        precondition(
            mean.count == rows && rstd.count == rows,
            "layerNormBackward: \(mean.count) means and \(rstd.count) rstds, expected \(rows) each")
        let result = uninitializedScalars(count) { dx in
            scalars.withUnsafeBufferPointer { x in
                outputGradient.scalars.withUnsafeBufferPointer { dy in
                    weight.scalars.withUnsafeBufferPointer { w in
                        weightGradient.scalars.withUnsafeMutableBufferPointer { dw in
                            biasGradient.scalars.withUnsafeMutableBufferPointer { db in
                                for row in 0..<rows {
                                    let offset = row &* channels
                                    layerNormBackwardRow(
                                        x.baseAddress! + offset, dy.baseAddress! + offset, dx + offset,
                                        w.baseAddress!, dw.baseAddress!, db.baseAddress!,
                                        channels: channels, mean: mean[row], rstd: rstd[row])
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: result)
    }
}

/// Backward of `layerNormRow` for one row of `channels`: writes the input gradient into `dx` and
/// adds this row's share of the weight and bias gradients into `dw` and `db`.
@inline(__always)
private func layerNormBackwardRow(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
    _ weight: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
    channels: Int, mean: Float, rstd: Float
) {
    var meanOfScaled: Float = 0, meanOfScaledTimesNorm: Float = 0
    for c in 0..<channels {
        let norm = (x[c] - mean) * rstd
        let scaled = dy[c] * weight[c]
        meanOfScaled += scaled
        meanOfScaledTimesNorm += scaled * norm
    }
    meanOfScaled /= Float(channels)
    meanOfScaledTimesNorm /= Float(channels)
    for c in 0..<channels {
        let norm = (x[c] - mean) * rstd
        let gradient = dy[c]
        dw[c] += gradient * norm
        db[c] += gradient
        let scaled = gradient * weight[c]
        dx[c] = (scaled - meanOfScaled - norm * meanOfScaledTimesNorm) * rstd
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
