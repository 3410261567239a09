#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Softmax cross-entropy over the vocabulary. Shape legend: N positions, V vocabulary.

/// Mean next-token cross-entropy and its gradient.
public enum CrossEntropy {
    /// `logits` `[N…, V]` and one target id per row (`N` of them, each in `0..<V`, or -1 for a row
    /// that is ignored): returns the mean of `−log softmax(logits)[target]` over counted rows and
    /// the gradient `(softmax − onehot) / counted` (`[N…, V]`, zero on ignored rows).
    public static func lossAndGradient(logits: Tensor, targets: [Int]) -> (loss: Float, gradient: Tensor) {
        let (v, rows) = checked(logits: logits, targets: targets)
        let counted = targets.filter { $0 >= 0 }.count
        var rowLosses = [Double](repeating: 0, count: rows)
        let scale = 1 / Float(max(1, counted))
        let gradient = uninitializedScalars(logits.count) { out in
            logits.scalars.withUnsafeBufferPointer { lp in
                targets.withUnsafeBufferPointer { tp in
                    rowLosses.withUnsafeMutableBufferPointer { losses in
                        let (l, targetIds, lossesBase) = (lp.baseAddress!, tp.baseAddress!, losses.baseAddress!)
                        parallelChunks(count: rows, minimumChunk: 32) { range in
                            for row in range {
                                let (x, y) = (l + row &* v, out + row &* v)
                                let target = targetIds[row]
                                guard target >= 0 else {
                                    y.initialize(repeating: 0, count: v)
                                    continue
                                }
                                var maximum = -Float.infinity
                                for j in 0..<v where x[j] > maximum { maximum = x[j] }
                                let shift = FloatVector(repeating: maximum)
                                mapVectorized(x, y, range: 0..<v, vector: { vectorExp($0 - shift) }, scalar: { expf($0 - maximum) })
                                var sum: Float = 0
                                for j in 0..<v { sum += y[j] }
                                lossesBase[row] = Double(logf(sum) + maximum - x[target])
                                let normaliser = scale / sum
                                for j in 0..<v { y[j] *= normaliser }
                                y[target] -= scale
                            }
                        }
                    }
                }
            }
        }
        let loss = rowLosses.reduce(0, +) / Double(max(1, counted))
        return (Float(loss), Tensor(uncheckedShape: logits.shape, scalars: gradient))
    }

    /// The sum over counted rows of `−log softmax(logits)[target]` (in Double) and how many rows were
    /// counted, for `logits` `[N…, V]` and targets as in `lossAndGradient`; no gradient is made.
    public static func lossSum(logits: Tensor, targets: [Int]) -> (sum: Double, counted: Int) {
        let (v, rows) = checked(logits: logits, targets: targets)
        var rowLosses = [Double](repeating: 0, count: rows)
        logits.scalars.withUnsafeBufferPointer { lp in
            rowLosses.withUnsafeMutableBufferPointer { losses in
                let (l, lossesBase) = (lp.baseAddress!, losses.baseAddress!)
                parallelChunks(count: rows, minimumChunk: 32) { range in
                    for row in range where targets[row] >= 0 {
                        let x = l + row &* v
                        var maximum = -Float.infinity
                        for j in 0..<v where x[j] > maximum { maximum = x[j] }
                        let shift = FloatVector(repeating: maximum)
                        var lanes = FloatVector(repeating: 0)
                        var j = 0
                        while j &+ FloatVector.scalarCount <= v {
                            lanes += vectorExp(UnsafeRawPointer(x + j).loadUnaligned(as: FloatVector.self) - shift)
                            j &+= FloatVector.scalarCount
                        }
                        var sum = lanes.sum()
                        while j < v {
                            sum += expf(x[j] - maximum)
                            j &+= 1
                        }
                        lossesBase[row] = Double(logf(sum) + maximum - x[targets[row]])
                    }
                }
            }
        }
        return (rowLosses.reduce(0, +), targets.filter { $0 >= 0 }.count)
    }

    /// The vocabulary size and row count of `logits`, after checking the arguments of either function.
    private static func checked(logits: Tensor, targets: [Int]) -> (vocabulary: Int, rows: Int) {
        Tensor.requireLayouts("CrossEntropy", logits)
        precondition(
            logits.rank >= 1 && logits.shape[logits.rank - 1] > 0,
            "CrossEntropy: logits \(logits.shape) need [N…, V] with V ≥ 1")
        let v = logits.shape[logits.rank - 1]
        let rows = logits.count / v
        precondition(targets.count == rows, "CrossEntropy: \(targets.count) targets, expected one per row (\(rows))")
        precondition(
            targets.allSatisfy { $0 >= -1 && $0 < v },
            "CrossEntropy: target \(targets.first { $0 < -1 || $0 >= v } ?? 0) outside the vocabulary 0..<\(v) (-1 ignores a row)")
        return (v, rows)
    }
}
