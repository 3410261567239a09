import LoupeCore

/// What a forward pass keeps for its backward pass. Shape legend: B batch, T tokens, C width,
/// H heads, D head width, M MLP width.
public struct ForwardTape: Sendable {
    /// Intermediates of one block.
    public struct Layer: Sendable {
        /// `hook_resid_pre` `[B, T, C]`.
        var residualIn: Tensor
        /// `ln1.hook_normalized` `[B, T, C]` and the statistics of its rows.
        var ln1: Tensor, ln1Mean: [Float], ln1Rstd: [Float]
        /// `[B, T, H, D]` each.
        var query: Tensor, key: Tensor, value: Tensor
        /// Factor applied to q·kᵀ.
        var scale: Float
        /// `[B, H, T, T]`.
        var pattern: Tensor
        /// `[B, T, H, D]`.
        var z: Tensor
        /// `hook_resid_mid` `[B, T, C]`.
        var residualMid: Tensor
        /// `ln2.hook_normalized` `[B, T, C]` and its row statistics.
        var ln2: Tensor, ln2Mean: [Float], ln2Rstd: [Float]
        /// `mlp.hook_pre` and `mlp.hook_post` `[B, T, M]`.
        var mlpPre: Tensor, mlpPost: Tensor
    }

    /// The configuration of the model that recorded the pass.
    var config: GPT2Config
    /// The input tokens (`B` sequences of `T`).
    var tokens: [[Int]]
    /// One entry per block.
    var layers: [Layer] = []
    /// Residual stream after the last block `[B, T, C]`.
    var residualOut = Tensor(shape: [0])
    /// `ln_final.hook_normalized` `[B, T, C]` and its row statistics.
    var finalNormalized = Tensor(shape: [0])
    var finalMean: [Float] = []
    var finalRstd: [Float] = []
    /// Whether row 0 of each block's input was a prefix slot (`ForwardRequest.prefix`).
    var prefixed: Bool

    init(config: GPT2Config, tokens: [[Int]], prefixed: Bool) {
        self.config = config
        self.tokens = tokens
        self.prefixed = prefixed
    }
}
