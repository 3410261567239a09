import LoupeCore

/// Corpus activations at one hook drawn from an activation store for NDM: `[P, d]` rows, each with the
/// document, document position and token it comes from. BOS rows are never drawn.
public struct SubspaceSample: Sendable {
    /// `[P, d]` activations.
    public var activations: Tensor
    /// Document of each row (`P` values).
    public var documents: [Int]
    /// Document position of each row (`P` values).
    public var positions: [Int]
    /// Token id of each row (`P` values).
    public var tokens: [Int]

    /// Up to `rows` non-BOS rows of `hook`, chosen uniformly without replacement (seeded), in store order.
    public static func draw(store: ActivationStore, hook: String, rows: Int, seed: UInt64) throws -> SubspaceSample {
        let width = try store.width(of: hook)
        var eligible = 0
        try store.forEachChunk(hook: hook) { chunk in eligible += chunk.special.filter { !$0 }.count }
        guard eligible > 0 else { throw SubspaceError.invalidInput(reason: "the activation store holds no corpus token at \(hook)") }
        var rng = SeededRandom(seed: seed)
        var chosen = [Bool](repeating: rows >= eligible, count: eligible)
        if rows < eligible {
            // Floyd's algorithm: `rows` distinct indices of `0..<eligible`.
            for j in (eligible - rows)..<eligible {
                let t = rng.nextInt(below: j + 1)
                if chosen[t] { chosen[j] = true } else { chosen[t] = true }
            }
        }
        var sample = SubspaceSample(activations: Tensor(shape: [0, width]), documents: [], positions: [], tokens: [])
        var values: [Float] = []
        var index = 0
        try store.forEachChunk(hook: hook) { chunk in
            for row in 0..<chunk.rowCount where !chunk.special[row] {
                defer { index += 1 }
                guard chosen[index] else { continue }
                values.append(contentsOf: chunk.activations.scalars[(row * width)..<((row + 1) * width)])
                sample.documents.append(chunk.documents[row])
                sample.positions.append(chunk.positions[row])
                sample.tokens.append(chunk.tokens[row])
            }
        }
        sample.activations = try Tensor(shape: [sample.documents.count, width], scalars: values)
        return sample
    }
}
