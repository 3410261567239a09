import LoupeAnalysis
import LoupeCore

/// Dictionaries with random weights for the benchmarks: every feature fires somewhere, as in a trained one.
enum BenchDictionary {
    /// A TopK dictionary `width` → `features` (k `k`) at `hook`, weights normal with scale 1/√width.
    static func randomTopK(hook: String, width: Int, features: Int, k: Int, rng: inout SeededRandom) throws -> SparseDictionary {
        func random(_ shape: [Int]) -> Tensor {
            var t = Tensor(shape: shape)
            for i in 0..<t.count { t.scalars[i] = rng.nextNormal() / Float(width).squareRoot() }
            return t
        }
        return try SparseDictionary(
            architecture: .topk, hookName: hook,
            encoderWeight: random([width, features]), encoderBias: Tensor(shape: [features]),
            decoderWeight: random([features, width]), decoderBias: Tensor(shape: [width]), k: k)
    }
}
