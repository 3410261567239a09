import LoupeCore

/// Greater-than over years: `the war lasted from the year 17 32 to the year 17` → a year above `32`.
///
/// Prompt layout (positions in the clean prompt, `<|endoftext|>` at 0), always 13 tokens:
/// `0 <|endoftext|>  1 the  2 noun  3 lasted  4 from  5 the  6 year  7 CC  8 YY  9 to  10 the  11 year
/// 12 CC`, with the century CC in `15`…`19` and the start year YY in `02`…`98`.
/// `correct` = every two-digit token above YY, `wrong` = every two-digit token from `00` to YY.
/// The corrupted prompt has start year `01` at position 8 (its only difference from the clean prompt), so
/// nearly every year is above the start. Training sentence: the prompt without `<|endoftext|>`, then a year
/// drawn uniformly above YY, then `.`.
public struct GreaterThanTask: ToyTask {
    /// The task's name; `TaskEvaluation` scores this task by probability mass.
    public static let taskName = "greater_than"
    /// Position of the start year in the clean prompt (the only corrupted position).
    public static let startYearPosition = 8
    /// Length of every prompt, `<|endoftext|>` included.
    public static let promptLength = 13

    let vocabulary: ToyVocabulary

    private func instance(_ rng: inout SeededRandom) -> (prompt: [Int], start: Int) {
        let noun = ToyDraw.one(ToyLexicon.greaterThanNouns, &rng)
        let century = ToyDraw.one(ToyLexicon.centuries, &rng)
        let start = ToyDraw.int(2...98, &rng)
        let words = [
            ToyLexicon.endOfText, "the", noun, "lasted", "from", "the", "year", century, ToyLexicon.twoDigit[start],
            "to", "the", "year", century,
        ]
        return (vocabulary.ids(words), start)
    }

    public func example(rng: inout SeededRandom) -> TaskExample {
        let (prompt, start) = instance(&rng)
        var corrupted = prompt
        corrupted[Self.startYearPosition] = vocabulary.number(1)
        return TaskExample(
            clean: prompt, corrupted: corrupted,
            correct: ((start + 1)...99).map(vocabulary.number),
            wrong: (0...start).map(vocabulary.number))
    }

    public func sentence(rng: inout SeededRandom) -> [Int] {
        let (prompt, start) = instance(&rng)
        let end = ToyDraw.int((start + 1)...99, &rng)
        return Array(prompt.dropFirst()) + [vocabulary.number(end), vocabulary.id(".")]
    }
}
