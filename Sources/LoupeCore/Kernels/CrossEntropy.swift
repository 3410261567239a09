#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Softmax cross-entropy over the vocabulary. Shape legend: N positions, V vocabulary.

/// Mean next-token cross-entropy and its gradient.
public enum CrossEntropy {
    /// `logits` `[N…, V]` and one target id per row (`N` of them; a target of -1 is ignored):
    /// returns the mean of `−log softmax(logits)[target]` over counted rows and the gradient
    /// `(softmax − onehot) / counted` (`[N…, V]`, zero on ignored rows).
    public static func lossAndGradient(logits: Tensor, targets: [Int]) -> (loss: Float, gradient: Tensor) {
        let v = logits.shape[logits.rank - 1]
        let rows = logits.count / v
        precondition(targets.count == rows, "one target per row")
        let counted = targets.filter { $0 >= 0 }.count
        var rowLosses = [Double](repeating: 0, count: rows)
        let scale = 1 / Float(max(1, counted))
        let gradient = uninitializedScalars(logits.count) { out in
            logits.scalars.withUnsafeBufferPointer { lp in
                rowLosses.withUnsafeMutableBufferPointer { losses in
                    let l = lp.baseAddress!, lossesBase = losses.baseAddress!
                    parallelChunks(count: rows, minimumChunk: 32) { range in
                        for row in range {
                            let base = row * v
                            let target = targets[row]
                            guard target >= 0 else {
                                (out + base).initialize(repeating: 0, count: v)
                                continue
                            }
                            precondition(target < v, "target \(target) outside the vocabulary")
                            var maximum = -Float.infinity
                            for j in 0..<v where l[base + j] > maximum { maximum = l[base + j] }
                            let shift = FloatVector(repeating: maximum)
                            mapVectorized(l + base, out + base, range: 0..<v,
                                          vector: { vectorExp($0 - shift) }, scalar: { expf($0 - maximum) })
                            var sum: Float = 0
                            for j in 0..<v { sum += out[base + j] }
                            lossesBase[row] = Double(logf(sum) + maximum - l[base + target])
                            let normaliser = scale / sum
                            for j in 0..<v { out[base + j] *= normaliser }
                            out[base + target] -= scale
                        }
                    }
                }
            }
        }
        let loss = rowLosses.reduce(0, +) / Double(max(1, counted))
        return (Float(loss), Tensor(uncheckedShape: logits.shape, scalars: gradient))
    }
}
