import LoupeCore
import LoupeModel
import LoupeToyWorld

/// Prompt pairs of one length, ready for the model, with what the metric needs.
///
/// The metric of pair b is `M_b = logit[T−1, correct] − logit[T−1, wrong]` (means over answer sets);
/// since logits are the final-normed residual times the unembedding, `M_b = ln_final[b, T−1] · u_b`
/// with the answer direction `u_b` = mean of the correct answers' unembedding rows minus the mean of
/// the wrong ones'.
struct CircuitBatch {
    /// `B` clean prompts of `T` ids.
    var clean: [[Int]]
    /// `B` corrupted prompts of `T` ids.
    var corrupted: [[Int]]
    /// `[B, C]` answer directions.
    var directions: Tensor

    /// Prompt length `T`.
    var length: Int { clean[0].count }

    /// The metric of each pair from `ln_final.hook_normalized` `[B, T, C]`.
    func metrics(finalNormalized: Tensor) -> [Double] {
        let (t, c) = (length, directions.shape[1])
        return (0..<clean.count).map { row in
            var total = 0.0
            let base = (row * t + t - 1) * c
            for channel in 0..<c {
                total += Double(finalNormalized.scalars[base + channel]) * Double(directions.scalars[row * c + channel])
            }
            return total
        }
    }

    /// d(Σ_b M_b)/d(`ln_final.hook_normalized`) `[B, T, C]`: each pair's direction at its last position.
    var finalGradient: Tensor {
        let (b, t, c) = (clean.count, length, directions.shape[1])
        var gradient = Tensor(shape: [b, t, c])
        for row in 0..<b {
            let base = (row * t + t - 1) * c
            gradient.scalars.replaceSubrange(base..<(base + c), with: directions.scalars[(row * c)..<((row + 1) * c)])
        }
        return gradient
    }
}

/// Splitting prompt pairs into batches of equal length.
enum CircuitBatching {
    /// `pairs` grouped by length (in order of first appearance), each group cut into batches of at
    /// most `rows(length)` pairs. Throws for an answer id outside the model's vocabulary or prompts
    /// of unequal length.
    static func batches(_ pairs: [TaskExample], model: GPT2Model, rows: (Int) -> Int) throws -> [CircuitBatch] {
        let vocabularySize = model.config.vocabularySize
        var groups: [Int: [TaskExample]] = [:]
        var order: [Int] = []
        for pair in pairs {
            guard !pair.clean.isEmpty, pair.clean.count == pair.corrupted.count else {
                throw CircuitError.invalidInput(reason: "a pair's clean and corrupted prompts must have the same, non-zero length")
            }
            guard !pair.correct.isEmpty, !pair.wrong.isEmpty else {
                throw CircuitError.invalidInput(reason: "a pair needs at least one correct and one wrong answer")
            }
            if let bad = (pair.correct + pair.wrong).first(where: { $0 < 0 || $0 >= vocabularySize }) {
                throw ModelError.tokenOutOfRange(id: bad, vocabularySize: vocabularySize)
            }
            if groups[pair.clean.count] == nil { order.append(pair.clean.count) }
            groups[pair.clean.count, default: []].append(pair)
        }
        return order.flatMap { length -> [CircuitBatch] in
            let group = groups[length]!
            let size = max(1, rows(length))
            return stride(from: 0, to: group.count, by: size).map { start in
                let slice = Array(group[start..<min(start + size, group.count)])
                return CircuitBatch(
                    clean: slice.map(\.clean), corrupted: slice.map(\.corrupted),
                    directions: answerDirections(slice, unembedding: model.weights.unembedding))
            }
        }
    }

    /// `[B, C]`: for each pair, the mean unembedding row of its correct answers minus that of its wrong ones.
    private static func answerDirections(_ pairs: [TaskExample], unembedding: Tensor) -> Tensor {
        let c = unembedding.shape[1]
        var directions = Tensor(shape: [pairs.count, c])
        for (row, pair) in pairs.enumerated() {
            var direction = [Double](repeating: 0, count: c)
            for (ids, sign) in [(pair.correct, 1.0), (pair.wrong, -1.0)] {
                let weight = sign / Double(ids.count)
                for id in ids {
                    for channel in 0..<c { direction[channel] += weight * Double(unembedding.scalars[id * c + channel]) }
                }
            }
            for channel in 0..<c { directions.scalars[row * c + channel] = Float(direction[channel]) }
        }
        return directions
    }
}
