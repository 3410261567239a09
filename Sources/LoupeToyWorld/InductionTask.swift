import LoupeCore

/// Induction: a random sequence of distinct word tokens, then its repeat; predict the next repeated token.
///
/// Prompt layout (positions in the clean prompt, `<|endoftext|>` at 0): the sequence s₀ … sₙ₋₁ at
/// `1 … n` (n in 6…10 distinct tokens from a pool of nouns and adjectives), then its first k tokens at
/// `n+1 … n+k` (k in 2…n−1); 1 + n + k tokens in all. `correct = [s_k]`; `wrong = [s_j]` for a j ≠ k drawn
/// uniformly. The corrupted prompt replaces s_k in the first copy — position `1 + k`, the token the answer
/// is copied from — with a pool token not in the sequence, so induction would predict that token instead;
/// it is the only difference from the clean prompt. Training sentence: the whole sequence twice, then `.`.
public struct InductionTask: ToyTask {
    /// The task's name.
    public static let taskName = "induction"
    /// Shortest and longest sequence.
    public static let lengths = 6...10

    private let vocabulary: ToyVocabulary
    private let pool: [Int]

    init(vocabulary: ToyVocabulary) {
        self.vocabulary = vocabulary
        self.pool = vocabulary.ids(ToyLexicon.inductionPool)
    }

    private func instance(_ rng: inout SeededRandom) -> [Int] {
        ToyDraw.distinct(pool, count: ToyDraw.int(Self.lengths, &rng), &rng)
    }

    public func example(rng: inout SeededRandom) -> TaskExample {
        let sequence = instance(&rng)
        let n = sequence.count
        let k = ToyDraw.int(2...(n - 1), &rng)
        let others = Array(0..<n).filter { $0 != k }
        let wrong = sequence[ToyDraw.one(others, &rng)]
        let clean = [vocabulary.id(ToyLexicon.endOfText)] + sequence + sequence[0..<k]
        var corrupted = clean
        corrupted[1 + k] = ToyDraw.other(pool, excluding: sequence, &rng)
        return TaskExample(clean: clean, corrupted: corrupted, correct: [sequence[k]], wrong: [wrong])
    }

    public func sentence(rng: inout SeededRandom) -> [Int] {
        let sequence = instance(&rng)
        return sequence + sequence + [vocabulary.id(".")]
    }
}
