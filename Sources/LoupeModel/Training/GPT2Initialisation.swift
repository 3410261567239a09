import LoupeCore

/// GPT-2's initialisation of named parameters: layer-norm weights at 1, matrices (rank-2 tensors)
/// normal with standard deviation 0.02 — 0.02 · `residualScale` for the projections that write to a
/// residual stream — and everything else (biases, layer-norm biases) 0.
public enum GPT2Initialisation {
    /// Initial tensors of the parameters `shapes` (name, shape), drawn from `rng` in list order, each
    /// matrix element by element. `isLayerNormWeight` and `isResidualProjection` pick those parameters
    /// by name.
    public static func tensors(
        shapes: [(String, [Int])], residualScale: Float, rng: inout SeededRandom,
        isLayerNormWeight: (String) -> Bool, isResidualProjection: (String) -> Bool
    ) -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for (name, shape) in shapes {
            var tensor = Tensor(shape: shape)
            if isLayerNormWeight(name) {
                tensor = Tensor(shape: shape, repeating: 1)
            } else if shape.count == 2 {
                let std: Float = isResidualProjection(name) ? 0.02 * residualScale : 0.02
                for i in 0..<tensor.count { tensor.scalars[i] = rng.nextNormal() * std }
            }
            tensors[name] = tensor
        }
        return tensors
    }
}
