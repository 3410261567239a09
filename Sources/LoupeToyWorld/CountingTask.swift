import LoupeCore

/// Counting a letter (InversionView's case study): `c b e b b | b :` → `03`.
///
/// Prompt layout (positions in the clean prompt, `<|endoftext|>` at 0): `0 <|endoftext|>`, then the
/// string at `1 … L` (L in 3…12 letters of `b c d e f g`), `L+1 |`, `L+2` the target letter, `L+3 :`;
/// L + 4 tokens in all. The target occurs k times in the string, k uniform in 1…⌈L/2⌉ (so 1…6); the other
/// letters are uniform over the rest of the alphabet. Counts are two-digit tokens (`01`…`06`).
/// `correct = [k]`, `wrong = [k − 1]` (always a token, `00` at worst, and the corrupted prompt's true
/// count). The corrupted prompt turns one occurrence of the target (chosen uniformly) into another letter,
/// so it differs from the clean prompt at exactly one position, inside the string, where the clean prompt
/// has the target. Training sentence: the prompt without `<|endoftext|>`, then `k .`.
public struct CountingTask: ToyTask {
    /// The task's name.
    public static let taskName = "counting"
    /// Shortest and longest letter string.
    public static let lengths = 3...12

    let vocabulary: ToyVocabulary

    private struct Instance {
        var prompt: [Int]
        var target: Int
        var count: Int
        /// Prompt positions holding the target letter.
        var targetPositions: [Int]
    }

    private func instance(_ rng: inout SeededRandom) -> Instance {
        let letters = vocabulary.ids(ToyLexicon.letters)
        let length = ToyDraw.int(Self.lengths, &rng)
        let count = ToyDraw.int(1...((length + 1) / 2), &rng)
        let target = ToyDraw.one(letters, &rng)
        let slots = ToyDraw.distinct(Array(0..<length), count: count, &rng).sorted()
        var string: [Int] = []
        for index in 0..<length {
            string.append(slots.contains(index) ? target : ToyDraw.other(letters, excluding: [target], &rng))
        }
        let prompt = [vocabulary.id(ToyLexicon.endOfText)] + string
            + [vocabulary.id("|"), target, vocabulary.id(":")]
        return Instance(prompt: prompt, target: target, count: count, targetPositions: slots.map { $0 + 1 })
    }

    public func example(rng: inout SeededRandom) -> TaskExample {
        let drawn = instance(&rng)
        let letters = vocabulary.ids(ToyLexicon.letters)
        let position = ToyDraw.one(drawn.targetPositions, &rng)
        var corrupted = drawn.prompt
        corrupted[position] = ToyDraw.other(letters, excluding: [drawn.target], &rng)
        return TaskExample(
            clean: drawn.prompt, corrupted: corrupted,
            correct: [vocabulary.number(drawn.count)], wrong: [vocabulary.number(drawn.count - 1)])
    }

    public func sentence(rng: inout SeededRandom) -> [Int] {
        let drawn = instance(&rng)
        return Array(drawn.prompt.dropFirst()) + [vocabulary.number(drawn.count), vocabulary.id(".")]
    }
}
