import LoupeCore

/// Next-token cross-entropy of a batch, summed, with the predictions it counts.
public struct NextTokenLoss: Sendable, Equatable {
    /// `Σ −log p(next token)` over every position that has a next token, in Double.
    public var sum: Double
    /// Positions counted (`T − 1` per sequence).
    public var predictions: Int

    public init(sum: Double, predictions: Int) {
        self.sum = sum
        self.predictions = predictions
    }

    /// The mean loss per prediction (0 when none was counted).
    public var mean: Double { predictions == 0 ? 0 : sum / Double(predictions) }
}

extension GPT2Model {
    /// Rows of `[rows, V]` logits made at a time by `nextTokenLoss`.
    public static let lossBlockRows = 256

    /// The next-token loss of `tokens` (`B` sequences of one length `T`) under `request`'s
    /// interventions, and the hooks it caches: the final layer norm's output `[B·T, C]` is multiplied by
    /// the unembedding and reduced to a loss `blockRows` rows at a time, so no `[B, T, V]` logits exist
    /// whole and no gradient is made. `request.computeLogits` is ignored.
    ///
    /// `counted` `[B]` gives how many leading positions of each sequence count (the rest is padding):
    /// the prediction at position `i` counts when `i + 1 < counted[b]`; `nil` counts them all.
    public func nextTokenLoss(
        _ tokens: [[Int]], _ request: ForwardRequest = ForwardRequest(), counted: [Int]? = nil,
        blockRows: Int = GPT2Model.lossBlockRows
    ) throws -> (loss: NextTokenLoss, cache: ActivationCache) {
        guard blockRows > 0 else { throw ModelError.invalidInput(reason: "loss blocks need at least one row, not \(blockRows)") }
        let lengths = counted ?? tokens.map(\.count)
        guard lengths.count == tokens.count, zip(lengths, tokens).allSatisfy({ $0 >= 0 && $0 <= $1.count }) else {
            throw ModelError.invalidInput(reason: "counted positions \(lengths) do not fit sequences of lengths \(tokens.map(\.count))")
        }
        var passRequest = request
        passRequest.computeLogits = false
        passRequest.cache.insert("ln_final.hook_normalized")
        var pass = try forward(tokens, passRequest)
        let normalized = pass.cache.tensors["ln_final.hook_normalized"]!
        if !request.cache.contains("ln_final.hook_normalized") { pass.cache.tensors["ln_final.hook_normalized"] = nil }
        let width = config.width
        let rows = normalized.count / width
        let targets = zip(tokens, lengths).flatMap { sequence, length in sequence.indices.map { $0 + 1 < length ? sequence[$0 + 1] : -1 } }
        var loss = NextTokenLoss(sum: 0, predictions: 0)
        for start in stride(from: 0, to: rows, by: blockRows) {
            let end = min(rows, start + blockRows)
            let block = try Tensor(shape: [end - start, width], scalars: Array(normalized.scalars[(start * width)..<(end * width)]))
            let (sum, counted) = CrossEntropy.lossSum(
                logits: try block.matmulTransposed(weights.unembedding), targets: Array(targets[start..<end]))
            loss.sum += sum
            loss.predictions += counted
        }
        return (loss, pass.cache)
    }
}
